"""TLS for Vault: a private CA and one server certificate shared by every node and the load balancer.

The certificate, its key and the CA go into one Secrets Manager secret (secrets key, readable only by the
Vault nodes' role, changeable only by the deployer) that nodes fetch at every start; the same certificate
is imported into ACM for the HTTPS listener unless the stack brings its own ACM certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from components.deployment import Names
from components.lib.iam import document, statement, to_json
from components.lib.secret_policy import CHANGE_POLICY, CHANGE_VALUE, READ_VALUE, deny_all_but

CA_VALIDITY_DAYS = 3650
HOURS_PER_DAY = 24
# ACM imports and ALB serves RSA 2048 everywhere; the CA key is larger as it outlives many server keys.
SERVER_KEY_BITS = 2048
CA_KEY_BITS = 4096
LOOPBACK_NAMES = ("localhost",)
LOOPBACK_ADDRESSES = ("127.0.0.1",)


def subject_names(load_balancer_dns_name: Any, server_name: str) -> list[Any]:
    """DNS names the certificate covers: the load balancer, the shared node name raft joins verify
    (leader_tls_servername), and localhost for tools on a node (the snapshot timer uses 127.0.0.1)."""
    return [load_balancer_dns_name, server_name, *LOOPBACK_NAMES]


# The nodes trust whatever this secret holds at boot: changing its value, its stages, its settings or its
# resource policy would swap the certificate and key they serve.
CHANGE_ACTIONS = (*CHANGE_VALUE, *CHANGE_POLICY)


def secret_policy(
    reader_role_arn: Any, deployer_role_arn: Any, other_deployers: Sequence[Any] = ()
) -> dict[str, Any]:
    """Only the Vault nodes' role reads the bundle; the deployers (the role running this update and every
    configured deployer principal, ARN patterns allowed) keep reading it so Pulumi can refresh the secret's
    version, and are the only ones who may change it. Everyone else is denied even if an identity policy
    would allow them."""
    deployers = [deployer_role_arn, *other_deployers]
    return document(
        statement(
            "VaultNodesReadTheBundle",
            READ_VALUE,
            "*",
            principal={"AWS": reader_role_arn},
        ),
        deny_all_but("NobodyElseReadsTheBundle", READ_VALUE, [reader_role_arn, *deployers]),
        deny_all_but("NobodyButTheDeployersChangeTheBundle", CHANGE_ACTIONS, deployers),
    )


@dataclass(frozen=True)
class TlsArgs:
    names: Names
    server_name: str
    load_balancer_dns_name: pulumi.Input[str]
    validity_days: int
    early_renewal_days: int
    secrets_key_arn: pulumi.Input[str]
    reader_role_arn: pulumi.Input[str]
    deployer_role_arn: pulumi.Input[str]
    recovery_window_days: int
    other_deployers: Sequence[pulumi.Input[str]] = ()
    acm_certificate_arn: str | None = None


@dataclass(frozen=True)
class VaultTls:
    """What the rest of the cluster uses: the CA to trust, the secret nodes read, the listener's ARN."""

    ca_certificate_pem: pulumi.Output[str]
    secret: aws.secretsmanager.Secret
    ready: Sequence[pulumi.Resource]
    certificate_arn: pulumi.Output[str]
    # The nodes' own certificate as imported into ACM (the listener's too, unless acmCertificateArn is set).
    node_certificate_arn: pulumi.Output[str]


def vault_tls(name: str, args: TlsArgs, parent: pulumi.Resource) -> VaultTls:
    child = pulumi.ResourceOptions(parent=parent)
    names = args.names
    ca_key = tls.PrivateKey(f"{name}-tls-ca-key", algorithm="RSA", rsa_bits=CA_KEY_BITS, opts=child)
    ca = tls.SelfSignedCert(
        f"{name}-tls-ca",
        private_key_pem=ca_key.private_key_pem,
        is_ca_certificate=True,
        subject=tls.SelfSignedCertSubjectArgs(
            common_name=f"{names.prefix} Vault CA", organization="Candlefish"
        ),
        validity_period_hours=CA_VALIDITY_DAYS * HOURS_PER_DAY,
        allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
        set_subject_key_id=True,
        opts=child,
    )
    server_key = tls.PrivateKey(
        f"{name}-tls-server-key", algorithm="RSA", rsa_bits=SERVER_KEY_BITS, opts=child
    )
    request = tls.CertRequest(
        f"{name}-tls-server-request",
        private_key_pem=server_key.private_key_pem,
        subject=tls.CertRequestSubjectArgs(common_name=args.server_name, organization="Candlefish"),
        dns_names=subject_names(args.load_balancer_dns_name, args.server_name),
        ip_addresses=list(LOOPBACK_ADDRESSES),
        opts=child,
    )
    server = tls.LocallySignedCert(
        f"{name}-tls-server",
        cert_request_pem=request.cert_request_pem,
        ca_private_key_pem=ca_key.private_key_pem,
        ca_cert_pem=ca.cert_pem,
        validity_period_hours=args.validity_days * HOURS_PER_DAY,
        # A `pulumi up` in the last days of the certificate's life issues the next one (README: rotation).
        early_renewal_hours=args.early_renewal_days * HOURS_PER_DAY,
        allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
        opts=child,
    )

    secret = aws.secretsmanager.Secret(
        f"{name}-tls-secret",
        name=names.secret("vault/tls"),
        description="Vault nodes' TLS certificate, private key and CA (read at boot by the node role)",
        kms_key_id=args.secrets_key_arn,
        recovery_window_in_days=args.recovery_window_days,
        opts=child,
    )
    version = aws.secretsmanager.SecretVersion(
        f"{name}-tls-secret-value",
        secret_id=secret.id,
        secret_string=pulumi.Output.json_dumps(
            {
                "certificate": server.cert_pem,
                "private_key": server_key.private_key_pem,
                "ca_certificate": ca.cert_pem,
            }
        ),
        opts=pulumi.ResourceOptions(parent=secret),
    )
    policy = aws.secretsmanager.SecretPolicy(
        f"{name}-tls-secret-policy",
        secret_arn=secret.arn,
        policy=to_json(secret_policy(args.reader_role_arn, args.deployer_role_arn, args.other_deployers)),
        block_public_policy=True,
        opts=pulumi.ResourceOptions(parent=secret),
    )

    # ACM needs the chain with an imported certificate that a private CA signed. With the stack's own ACM
    # certificate on the listener, the node certificate is still imported: ACM then publishes its
    # DaysToExpiry, which the node-certificate expiry alarm watches (importing costs nothing).
    imported = aws.acm.Certificate(
        f"{name}-tls-acm",
        private_key=server_key.private_key_pem,
        certificate_body=server.cert_pem,
        certificate_chain=ca.cert_pem,
        tags={
            "Name": names.resource("vault"),
            "Purpose": "expiry-monitoring" if args.acm_certificate_arn else "load-balancer-listener",
        },
        opts=child,
    )
    certificate_arn = (
        pulumi.Output.from_input(args.acm_certificate_arn) if args.acm_certificate_arn else imported.arn
    )
    return VaultTls(
        ca_certificate_pem=ca.cert_pem,
        secret=secret,
        ready=[version, policy],
        certificate_arn=certificate_arn,
        node_certificate_arn=imported.arn,
    )
