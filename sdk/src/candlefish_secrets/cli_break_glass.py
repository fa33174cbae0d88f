"""`candlefish-secrets break-glass ...`: request, approve, deny, cancel, activate, revoke, status, list,
drill.

The broker's function URL comes from `--broker-url` or `CANDLEFISH_BREAK_GLASS_URL` (the stack output
`breakGlassBrokerUrl`); calls are signed with the AWS credentials of `--profile` (or the default chain),
which must be a session of the break-glass requester or approver role. `activate` prints the token on
stdout only (`--print`, the default when stdout is not a terminal), writes it to a new file readable by
you alone (`--token-file`), or starts a sub-shell with VAULT_TOKEN set (`--shell`); it never logs it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from candlefish_secrets.break_glass import BreakGlass, BrokerClient, Grant, drill
from candlefish_secrets.cli import EXIT_FAILED, EXIT_OK, emit, environ
from candlefish_secrets.errors import ConfigurationError


def _session(profile: str | None) -> Any:
    if not profile:
        return None
    import boto3  # noqa: PLC0415

    return boto3.session.Session(profile_name=profile)


def _break_glass(args: argparse.Namespace, profile: str | None = None) -> BreakGlass:
    env = environ()
    url = args.broker_url or env.get("CANDLEFISH_BREAK_GLASS_URL", "")
    if not url:
        raise ConfigurationError("no broker URL: pass --broker-url or set CANDLEFISH_BREAK_GLASS_URL")
    client = BrokerClient(url, session=_session(profile or args.profile), region=args.region)
    verify: bool | str = env.get("VAULT_CACERT") or True
    return BreakGlass(client, vault_addr=args.vault_addr or env.get("VAULT_ADDR"), verify=verify)


def _when(epoch: Any) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat(timespec="seconds") if epoch else "-"


def _summary(item: dict[str, Any]) -> str:
    approvers = ", ".join(item.get("approvers") or []) or "none yet"
    return (
        f"{item.get('request_id')}  {item.get('status')}  requester {item.get('requester')}  "
        f"approvers {approvers}  ends {_when(item.get('ends_at'))}"
    )


def _show(args: argparse.Namespace, item: dict[str, Any]) -> int:
    emit(args, _summary(item), item)
    return EXIT_OK


def _request(args: argparse.Namespace) -> int:
    made = _break_glass(args).request(args.justification, args.duration, drill=args.drill)
    emit(
        args,
        f"requested {made['request_id']}: approvers run `break-glass approve {made['request_id']}`",
        made,
    )
    return EXIT_OK


def _approve(args: argparse.Namespace) -> int:
    return _show(args, _break_glass(args).approve(args.request_id))


def _deny(args: argparse.Namespace) -> int:
    return _show(args, _break_glass(args).deny(args.request_id, args.reason))


def _cancel(args: argparse.Namespace) -> int:
    return _show(args, _break_glass(args).cancel(args.request_id, args.reason))


def _revoke(args: argparse.Namespace) -> int:
    return _show(args, _break_glass(args).revoke(args.request_id, args.reason))


def _status(args: argparse.Namespace) -> int:
    item = _break_glass(args).status(args.request_id)
    emit(args, _summary(item) + "".join(f"\n  {event}" for event in item.get("events") or []), item)
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    items = _break_glass(args).list(include_closed=args.all)
    emit(args, "\n".join(_summary(item) for item in items) or "no break-glass requests", items)
    return EXIT_OK


def _activate(args: argparse.Namespace) -> int:
    grant = _break_glass(args).activate(args.request_id)
    note = f"break-glass token active until {_when(grant.ends_at)} (accessor {grant.accessor})"
    print(note, file=sys.stderr)
    if args.token_file:
        _write_token(args.token_file, grant)
        return EXIT_OK
    if args.shell:
        shell = environ().get("SHELL") or "/bin/sh"
        env = {**environ(), "VAULT_TOKEN": grant.token, "CANDLEFISH_BREAK_GLASS_REQUEST": grant.request_id}
        return subprocess.call([shell], env=env)  # noqa: S603 - the user's own shell
    print(grant.token)
    return EXIT_OK


def _write_token(path: str, grant: Grant) -> None:
    """A new file, mode 0600, never an existing one (it could be readable by others)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigurationError(f"--token-file {path}: the file exists; name a new one") from None
    with os.fdopen(descriptor, "w") as handle:
        handle.write(grant.token + "\n")


def _drill(args: argparse.Namespace) -> int:
    if len(args.approver_profile) < 1:
        raise ConfigurationError("drill: name the approvers' AWS profiles with --approver-profile (twice)")
    requester = _break_glass(args)
    approvers = [_break_glass(args, profile) for profile in args.approver_profile]
    report = drill(
        requester, approvers, args.justification, args.duration, wait_for_expiry=args.wait_for_expiry
    )
    human = "\n".join(
        [
            f"drill {report.request_id}: {'PASSED' if report.passed else 'FAILED'}",
            f"time from request to access: {report.seconds_to_access}s",
            *(f"  ok: {step}" for step in report.steps),
            *(f"  PROBLEM: {problem}" for problem in report.problems),
        ]
    )
    emit(args, human, {**report.__dict__, "passed": report.passed})
    return EXIT_OK if report.passed else EXIT_FAILED


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--broker-url", help="the broker's function URL (default: $CANDLEFISH_BREAK_GLASS_URL)"
    )
    parser.add_argument("--profile", help="AWS profile of your requester or approver role session")
    parser.add_argument("--region", help="AWS region of the broker (default: from the URL)")
    parser.add_argument("--vault-addr", help="Vault address, to unwrap the token (default: $VAULT_ADDR)")


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("break-glass", help="emergency access: request, approve, activate, revoke")
    actions = group.add_subparsers(dest="break_glass_command", required=True, metavar="ACTION")

    def action(name: str, handler: Any, help_text: str, *, with_id: bool = True) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        if with_id:
            parser.add_argument("request_id", help="the request's id, as `request` printed")
        _common(parser)
        parser.set_defaults(handler=handler)
        return parser

    request = action("request", _request, "ask for break-glass access", with_id=False)
    request.add_argument("--justification", required=True, help="what is broken and why (20+ characters)")
    request.add_argument("--duration", default="30m", help="how long the token lives (e.g. 30m, 1h)")
    request.add_argument(
        "--drill", action="store_true", help="a drill: the token gets the harmless drill policy"
    )
    action("approve", _approve, "approve someone else's request")
    action("deny", _deny, "deny a pending request").add_argument("--reason", default="")
    action("cancel", _cancel, "withdraw your own pending request").add_argument("--reason", default="")
    activate = action("activate", _activate, "get the token of your approved request (once)")
    where = activate.add_mutually_exclusive_group()
    where.add_argument("--print", action="store_true", help="print the token on stdout (the default)")
    where.add_argument("--token-file", help="write the token to this new file (mode 0600)")
    where.add_argument("--shell", action="store_true", help="start $SHELL with VAULT_TOKEN set")
    action("revoke", _revoke, "end an active grant now").add_argument("--reason", default="")
    action("status", _status, "a request's state and its recorded events")
    action("list", _list, "open requests (with --all, closed ones too)", with_id=False).add_argument(
        "--all", action="store_true"
    )
    run = action("drill", _drill, "run the whole procedure with the drill policy and time it", with_id=False)
    run.add_argument("--approver-profile", action="append", default=[], help="an approver's AWS profile")
    run.add_argument("--justification", default="Scheduled break-glass drill: no incident, drill policy only")
    run.add_argument("--duration", default="5m")
    run.add_argument(
        "--wait-for-expiry",
        action="store_true",
        help="let the window end and check the automatic revocation came on time (instead of revoking)",
    )
