"""Before `pulumi up`: can this machine reach Vault's API where the deployment will call it?

    python -m tools.preflight [--address URL] [--ca-file PEM] [--timeout SECONDS]

`pulumi up` initialises, configures and seeds Vault through its API, which listens only inside the VPC
(the internal load balancer's bootstrap listener, `vaultBootstrapAddress`, or `vaultDeployAddress` through a
Session Manager port forward). A hosted CI runner is outside the VPC, and there the bootstrap would only
time out after many minutes. This check answers in seconds: it resolves the name, opens a TCP connection
and asks `sys/health`, and on failure says where Vault is reachable from and how to get there.

The address comes from `--address`, else the VAULT_DEPLOY_ADDRESS environment variable. With neither (the
very first deployment, before the load balancer exists) it only says what the bootstrap will need.
Exit codes: 0 reachable (or nothing to check yet), 2 unreachable (the reason and the ways in are printed).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

EXIT_UNREACHABLE = 2
DEFAULT_TIMEOUT_S = 5.0
# Any node that answers at all: uninitialised, sealed and standby nodes answer 200 too.
HEALTH_QUERY = "standbyok=true&perfstandbyok=true&uninitcode=200&sealedcode=200&drsecondarycode=200"
WAYS_IN = """\
Vault's API is reachable only from inside the VPC. Run `pulumi up` from one of:
  - a runner inside the VPC (the deploy workflow's self-hosted runner labelled `candlefish-vpc`, in the
    private subnets, within `allowedCidrs`): it reaches the load balancer's bootstrap listener
    (stack output vaultBootstrapAddress, port 8200);
  - any machine with a Session Manager port forward to a Vault node, the certificate covering localhost:
      aws ssm start-session --target <vault-node-instance-id> \\
        --document-name AWS-StartPortForwardingSession \\
        --parameters portNumber=8200,localPortNumber=8443 &
      pulumi config set vaultDeployAddress https://localhost:8443
A GitHub-hosted runner is outside the VPC and cannot deploy this stack."""


@dataclass(frozen=True)
class Verdict:
    """Whether Vault answered at `address`, and what happened."""

    address: str
    reachable: bool
    detail: str


def check(address: str, ca_file: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> Verdict:
    """Resolve, connect and ask sys/health at `address`, each step bounded by `timeout_s`."""
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Verdict(address, False, "not an http(s) URL with a host name")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as error:
        return Verdict(address, False, f"the name {parts.hostname} does not resolve here ({error})")
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_s):
            pass
    except TimeoutError:
        return Verdict(address, False, f"no TCP answer from {parts.hostname}:{port} within {timeout_s:g}s")
    except OSError as error:
        return Verdict(address, False, f"TCP connection to {parts.hostname}:{port} failed ({error.strerror})")
    try:
        answer = requests.get(
            f"{address.rstrip('/')}/v1/sys/health?{HEALTH_QUERY}",
            verify=ca_file or True,
            timeout=timeout_s,
        )
    except requests.exceptions.SSLError:
        return Verdict(address, False, "TLS failed: pass the cluster CA (stack output vaultCaCertificate)")
    except requests.RequestException as error:
        return Verdict(address, False, f"sys/health failed ({type(error).__name__})")
    if answer.status_code != 200 or "initialized" not in answer.text:
        return Verdict(
            address, False, f"sys/health answered {answer.status_code}, not Vault's health document"
        )
    return Verdict(address, True, "Vault answered sys/health")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.preflight", description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", default=os.environ.get("VAULT_DEPLOY_ADDRESS", ""))
    parser.add_argument("--ca-file", help="PEM of the cluster CA (stack output vaultCaCertificate)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per step")
    args = parser.parse_args(argv)
    if not args.address:
        print(
            "preflight: no Vault address yet (first deployment?). `pulumi up` creates the cluster, then "
            "initialises it through its API.\n" + WAYS_IN
        )
        return 0
    verdict = check(args.address, args.ca_file, args.timeout)
    if verdict.reachable:
        print(f"preflight: {verdict.detail} at {verdict.address}")
        return 0
    print(
        f"error: Vault is not reachable at {verdict.address} from here: {verdict.detail}.\n{WAYS_IN}",
        file=sys.stderr,
    )
    return EXIT_UNREACHABLE


if __name__ == "__main__":
    sys.exit(main())
