"""`BootstrappedVault`: initialise a new Vault cluster once, then keep its configuration as declared.

A Pulumi dynamic provider (hvac, boto3). It reaches the cluster at the load balancer's address, trusting
only the cluster CA, and:

1. waits until some node answers `sys/health` (bounded);
2. on an uninitialised cluster: proves the break-glass secret writable, initialises with recovery shares
   (auto-unseal: `recovery_shares`/`recovery_threshold`, optionally PGP-encrypted per share; never
   `secret_shares`), and stores shares and root token in the break-glass secret before anything else;
3. waits until unsealed, a leader is elected and every raft peer has joined (autopilot healthy);
4. reconciles audit devices, KV v2, AWS and AppRole auth with their roles, ACL policies and autopilot
   (`vault_config` says what, `vault_reconcile` how: only what differs is written);
5. issues a periodic orphan provisioner token (a Pulumi secret output) and revokes the root token.

Later runs authenticate with the provisioner token from state and renew it. Without state (the resource
was recreated, or an earlier create failed) an initialised cluster is adopted: with the break-glass root
token if an earlier run stored it and never revoked it, or with an `adopt_token` input; otherwise the
error says how to get one. `read` (pulumi refresh) reports the live configuration's digest, so drift
becomes a diff and `update` corrects it. The provisioner may not write the admin, break-glass and
provisioner policies (`vault_config.PROTECTED_POLICIES`): a run that must is given an admin token as
`adopt_token` and writes them with it, or stops before writing anything. `delete` removes nothing from
Vault (see `DELETE_NOTE`).

Partial failures, and how the next run finishes:
- break-glass secret missing, being deleted or not writable: found before init; nothing happened.
- init refused (already initialised by someone else): nothing stored, the next run adopts.
- init's answer lost on the wire, or the store failing after its retries: the shares existed only in
  this process. Nothing has been written to Vault yet (configuration comes after the store), so the
  cluster is empty: wipe its raft data and re-run. The error says so, and so does the next run, which
  sees the secret's "init pending" marker.
- anything after the store (unseal, peers, configuration, token): the root token is in the break-glass
  secret and not yet revoked, so the next run resumes with it, finishes, and revokes it. With write-only
  shares (`resume_secret_id` set: the deployer may not read the break-glass secret) the token is taken
  from the bootstrap-resume secret instead (providers/bootstrap_resume.py), which is emptied once the
  token is revoked.
- revoking the root token, after the provisioner token was issued: no state keeps that new token, so it is
  revoked again before the run fails (or, if that fails too, the error names its accessor).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult
from pulumi.runtime import rpc

from providers import bootstrap_resume, break_glass, common, vault_config, vault_reconcile, vault_waits
from providers.bootstrap_inputs import ECHOED_INPUTS, PROVISIONER_PERIOD, BootstrapInputs
from providers.common import BootstrapError, fingerprint, plain

TIMEOUT_S = 10
RETRY_TOTAL = 5
RETRY_BACKOFF_S = 0.5
PROVISIONER_POLICY = "provisioner"
DELETE_NOTE = (
    "deleting this resource removes nothing from Vault: the cluster, its data, policies, auth methods, "
    "audit devices and the provisioner token stay, and the break-glass secret keeps the recovery shares. "
    "Revoke the provisioner token by its accessor if the stack is going away "
    "(`vault token revoke -accessor <provisioner_accessor>`)."
)
# Inputs that change what `update` does; the configuration itself is compared through its digest.
DIFF_INPUTS = ("address", "ca_pem", "region", "break_glass_secret_id", "provisioner_period")


@dataclass
class Session:
    """The token this run acts with, and where it came from."""

    token: str
    kind: str  # "initialised" | "resumed" | "adopted" | "provisioner"
    break_glass_version_id: str = ""
    # Write-only shares: why the root token could not be kept in the bootstrap-resume secret ("" if it was).
    resume_problem: str = ""

    @property
    def is_root(self) -> bool:
        return self.kind in {"initialised", "resumed"}

    def __repr__(self) -> str:
        return f"Session(kind={self.kind!r})"


@contextlib.contextmanager
def vault_clients(props: Mapping[str, Any]) -> Iterator[tuple[Any, Any]]:
    """Two clients for the cluster: one retrying (idempotent configuration writes), one never retrying
    (polls, `sys/init`, token creation and revocation: a repeat after a lost answer would be wrong)."""
    address, ca_pem = props["address"], props.get("ca_pem") or ""
    with (
        common.vault_client(
            address, ca_pem, None, timeout=TIMEOUT_S, retry_total=RETRY_TOTAL, backoff=RETRY_BACKOFF_S
        ) as vault,
        common.vault_client(address, ca_pem, None, timeout=TIMEOUT_S, retry_total=0, backoff=0) as direct,
    ):
        yield vault, direct


def explain(error: Exception, address: str, doing: str, caller: str = "bootstrap") -> BootstrapError:
    """A Vault or network failure as an instruction."""
    import hvac.exceptions as vault_errors  # noqa: PLC0415
    import requests  # noqa: PLC0415

    if isinstance(error, BootstrapError):
        return error
    if isinstance(error, vault_errors.VaultDown):
        return BootstrapError(
            f"Vault at {address} answered 503 (sealed, or no active node) while {doing}; auto-unseal "
            "normally clears this within a minute. Check `vault status` and `journalctl -u vault` on the "
            "nodes (awskms: the node role's access to the unseal key), then re-run `pulumi up`"
        )
    if isinstance(error, vault_errors.Forbidden):
        return BootstrapError(
            f"Vault refused the {caller} token (403 permission denied) while {doing}; "
            + (
                "the provisioner policy may have been changed by hand: restore it, or adopt the cluster "
                "again with an admin token (`pulumi config set --secret vaultAdoptToken`), then re-run"
                if caller == "provisioner"
                else "use a root token (`vault operator generate-root` with the recovery shares) or one "
                "with the admin policy, then re-run"
            )
        )
    if isinstance(error, vault_errors.RateLimitExceeded):
        return BootstrapError(
            f"Vault kept rate-limiting the bootstrap (429) while {doing}; re-run `pulumi up`"
        )
    if isinstance(error, vault_errors.InvalidRequest) and "unable to resolve ARN" in str(error):
        return BootstrapError(
            f"Vault could not resolve an AWS auth role's bound principal while {doing} ({str(error)[:200]}): "
            "Vault checks each bound IAM role with its own credentials, so the Vault node role needs "
            "iam:GetRole (iam:GetUser for users) on the bound principals, and the principal must exist. "
            "Grant it in the cluster's node role policy, then re-run `pulumi up`"
        )
    if isinstance(error, vault_errors.InvalidRequest):
        return BootstrapError(f"Vault rejected the request while {doing} (400): {str(error)[:300]}")
    if common.timed_out(error):
        return BootstrapError(
            f"Vault at {address} did not answer within {TIMEOUT_S}s while {doing}; check the load "
            "balancer's target health and the nodes' load, then re-run `pulumi up`"
        )
    if isinstance(error, requests.exceptions.SSLError):
        return BootstrapError(
            f"Vault at {address} presented a certificate the cluster CA does not sign ({doing}); check "
            "that the load balancer serves the cluster's certificate and `ca_pem` is that CA"
        )
    if isinstance(error, requests.exceptions.ConnectionError):
        return BootstrapError(f"could not reach Vault at {address} while {doing}; re-run `pulumi up`")
    return BootstrapError(f"{doing} failed: {type(error).__name__}: {str(error)[:300]}")


def _has_unknowns(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_unknowns(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_unknowns(item) for item in value)
    return bool(value == rpc.UNKNOWN)


def _now() -> datetime:
    return datetime.now(UTC)


class VaultBootstrapProvider(ResourceProvider):
    """CRUD for the bootstrap. Holds no clients: each call makes its own (the provider is pickled)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._run(props, olds=None)
        return CreateResult(id_=str(outs.pop("_cluster_id")), outs=outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        outs = self._run(news, olds=olds)
        outs.pop("_cluster_id")
        return UpdateResult(outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        news = {key: value for key, value in news.items() if key != "__provider"}
        if _has_unknowns(news):
            return DiffResult(changes=True, replaces=[], delete_before_replace=False)
        changed = [key for key in DIFF_INPUTS if olds.get(key) != news.get(key)]
        try:
            wanted = vault_config.digest(vault_config.desired(news))
        except (KeyError, ValueError):
            wanted = ""  # invalid inputs: let `update` say what is wrong
        if not wanted or olds.get("config_digest") != wanted:
            changed.append("configuration")
        if olds.get("adopt_token_fingerprint", "") != _token_fingerprint(news.get("adopt_token")):
            changed.append("adopt_token")
        renew_after = str(olds.get("provisioner_renew_after") or "")
        if not renew_after or datetime.fromisoformat(renew_after) <= _now():
            changed.append("provisioner_token")
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Report the live configuration's digest and what differs; never writes."""
        address = props["address"]
        outs = dict(props)
        wanted = vault_config.desired(props)
        try:
            with vault_clients(props) as (vault, _direct):
                vault.token = plain(props.get("provisioner_token"))
                live = vault_reconcile.live_view(vault, wanted)
        except Exception as error:
            raise explain(error, address, "reading the live configuration", "provisioner") from None
        outs["config_digest"] = vault_config.digest(live)
        outs["drift"] = "; ".join(vault_config.differences(wanted, live))
        return ReadResult(id_=id_, outs=outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Removes nothing from Vault, on purpose: see `DELETE_NOTE` (also an output of the resource)."""

    # --- the run ---------------------------------------------------------------------------------------

    def _run(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        vault_config.validate(props)
        inputs = BootstrapInputs.from_properties(props)
        address = str(inputs.address)
        waits = vault_waits.Waits.from_props(inputs.waits)
        sm = break_glass.client(inputs.region)
        with vault_clients(props) as (vault, direct):
            health = vault_waits.wait_until_answering(direct, address, waits)
            session: Session | None = None
            if not health.get("initialized"):
                if olds is not None:
                    raise _storage_lost(address)
                session = self._initialise(direct, sm, props, inputs)
            unsealed = vault_waits.wait_until_unsealed(direct, address, waits)
            vault_waits.wait_for_leader(direct, address, waits)
            if session is None:
                session = self._authenticate(direct, sm, props, olds)
            caller = "provisioner" if session.kind == "provisioner" else "bootstrap"
            vault.token = direct.token = session.token
            try:
                if session.kind != "provisioner":
                    vault_waits.wait_for_peers(direct, address, int(inputs.cluster_size), waits)
                wanted = vault_config.desired(props)
                live = vault_reconcile.live_view(vault, wanted)
                with _admin_for_protected_policies(props, session, wanted, live) as admin:
                    changes = vault_reconcile.reconcile(
                        vault,
                        wanted,
                        live,
                        retired_policies=list((olds or {}).get("managed_policies") or []),
                        retired_aws_roles=list((olds or {}).get("managed_aws_roles") or []),
                        admin=admin,
                    )
                provisioner = self._provisioner(direct, inputs, olds, session)
                root_revoked = False
                if session.is_root:
                    self._revoke_root(vault, direct, address, str(provisioner["provisioner_accessor"]))
                    root_revoked = True
                if root_revoked and props.get("resume_secret_id"):
                    bootstrap_resume.clear(sm, str(props["resume_secret_id"]), address)
            except Exception as error:
                failure = explain(error, address, "configuring the cluster", caller)
                if session.resume_problem:
                    failure = BootstrapError(
                        f"{failure}. The next run cannot resume: the root token could not be kept ("
                        f"{session.resume_problem}); have a break-glass reader generate a root token with "
                        "the recovery shares and set it as vaultAdoptToken, or wipe the cluster's raft data"
                    )
                raise failure from None
        return {
            **{key: props.get(key) for key in ECHOED_INPUTS},
            **provisioner,
            "_cluster_id": str(unsealed.get("cluster_id") or inputs.break_glass_secret_id),
            "config_digest": vault_config.digest(wanted),
            "drift": "",
            "changes": changes,
            "managed_policies": sorted(wanted["policies"]),
            "managed_aws_roles": sorted(wanted["aws_roles"]),
            "bootstrap": session.kind if olds is None else str(olds.get("bootstrap") or session.kind),
            "break_glass_version_id": session.break_glass_version_id
            or str((olds or {}).get("break_glass_version_id") or ""),
            "root_token_revoked": root_revoked or bool((olds or {}).get("root_token_revoked")),
            "adopt_token_fingerprint": _token_fingerprint(inputs.adopt_token),
            "on_delete": DELETE_NOTE,
        }

    def _initialise(self, direct: Any, sm: Any, props: Mapping[str, Any], inputs: BootstrapInputs) -> Session:
        """`sys/init` with recovery shares, and the shares stored before anything else can fail."""
        address, secret_id = str(inputs.address), str(inputs.break_glass_secret_id)
        resume_id = str(inputs.resume_secret_id or "")
        if resume_id:  # first: a failure here leaves no marker in the break-glass secret
            bootstrap_resume.preflight(sm, resume_id, address)
        marker = break_glass.preflight(sm, secret_id, address, write_only=bool(resume_id))
        shares = int(inputs.recovery_shares)
        threshold = int(inputs.recovery_threshold)
        pgp_keys = list(inputs.recovery_pgp_keys)
        request: dict[str, Any] = {"recovery_shares": shares, "recovery_threshold": threshold}
        if pgp_keys:
            request["recovery_pgp_keys"] = pgp_keys
        answer = self._init_request(direct, sm, props, request, marker)
        material = break_glass.Material(
            vault_address=address,
            recovery_shares=[str(share) for share in answer.get("recovery_keys_base64") or []],
            recovery_threshold=threshold,
            pgp_encrypted=bool(pgp_keys),
            root_token=str(answer.get("root_token") or ""),
        )
        if len(material.recovery_shares) != shares or not material.root_token:
            raise BootstrapError(
                f"Vault at {address} answered sys/init without {shares} recovery shares and a root token: is "
                'it configured with an auto-unseal seal (seal "awskms")? Under a Shamir seal it would '
                "have returned unseal keys, which this bootstrap does not handle"
            )
        try:
            version = break_glass.store(sm, secret_id, material, marker, write_only=bool(resume_id))
        except BootstrapError as error:
            raise BootstrapError(
                f"Vault at {address} was initialised, but its recovery shares and root token could not be "
                f"stored in the break-glass secret {secret_id} ({error}). They existed only in this run "
                "and are gone. Nothing has been written to Vault yet, so nothing is lost by starting over: "
                "wipe the cluster's raft data (replace every Vault node with an empty data volume, e.g. "
                "an instance refresh of the Auto Scaling group), make sure the deployer can write the "
                "secret, and re-run `pulumi up`"
            ) from None
        kept = bootstrap_resume.save(sm, resume_id, address, material.root_token) if resume_id else ""
        return Session(
            token=material.root_token, kind="initialised", break_glass_version_id=version, resume_problem=kept
        )

    @staticmethod
    def _init_request(
        direct: Any, sm: Any, props: Mapping[str, Any], request: dict[str, Any], marker: str
    ) -> dict[str, Any]:
        import hvac.exceptions as vault_errors  # noqa: PLC0415

        address, secret_id = props["address"], props["break_glass_secret_id"]
        try:
            answer = direct.adapter.put("/v1/sys/init", json=request)
        except (vault_errors.InvalidRequest, vault_errors.Forbidden) as error:
            break_glass.clear_after_failed_init(sm, secret_id, marker)
            raise BootstrapError(
                f"Vault at {address} refused sys/init ({str(error)[:200]}); nothing was initialised or "
                "stored. If another process initialised it meanwhile, re-run `pulumi up` to adopt it"
            ) from None
        except Exception as error:
            raise BootstrapError(
                f"the answer to sys/init from Vault at {address} was lost ({type(error).__name__}); Vault "
                "may now be initialised with shares nobody holds. If `vault status` says Initialized "
                "false, re-run `pulumi up`. If it says true, the cluster holds no data yet: wipe its raft "
                "data (replace every node with an empty data volume) and re-run `pulumi up`"
            ) from None
        if not isinstance(answer, dict):
            raise BootstrapError(f"Vault at {address} answered sys/init with no document; re-run `pulumi up`")
        return answer

    def _authenticate(
        self, direct: Any, sm: Any, props: Mapping[str, Any], olds: Mapping[str, Any] | None
    ) -> Session:
        """A token for an initialised cluster: state's provisioner token, the adopt token, or the
        break-glass root token an interrupted bootstrap left behind."""
        import hvac.exceptions as vault_errors  # noqa: PLC0415

        address = props["address"]
        refused = ""
        provisioner = plain((olds or {}).get("provisioner_token"))
        if provisioner:
            direct.token = provisioner
            try:
                direct.auth.token.renew_self()
                return Session(token=provisioner, kind="provisioner")
            except vault_errors.Forbidden:
                refused = "the provisioner token in this stack's state was refused (403: expired or revoked)"
            except Exception as error:
                raise explain(error, address, "renewing the provisioner token", "provisioner") from None
        if olds is None:
            # An earlier create stored the root token and failed before revoking it: finish with it (and
            # revoke it), in preference to an adopt token, so it does not outlive the bootstrap.
            root = self._stored_root_token(sm, props)
            if root and self._token_works(direct, root):
                return Session(token=root, kind="resumed")
        adopt = plain(props.get("adopt_token"))
        if adopt:
            direct.token = adopt
            try:
                direct.auth.token.lookup_self()
            except Exception as error:
                raise explain(error, address, "checking the adopt token (vaultAdoptToken)", "adopt") from None
            return Session(token=adopt, kind="adopted")
        raise self._no_token(sm, props, olds, refused)

    @staticmethod
    def _stored_root_token(sm: Any, props: Mapping[str, Any]) -> str | None:
        """The root token an unfinished bootstrap stored: in the bootstrap-resume secret when the shares are
        write-only (the break-glass secret is never read then), else in the break-glass secret."""
        if props.get("resume_secret_id"):
            return bootstrap_resume.load(sm, str(props["resume_secret_id"]))
        stored = break_glass.load(sm, props["break_glass_secret_id"])
        return str(stored["root_token"]) if stored else None

    @staticmethod
    def _token_works(direct: Any, token: str) -> bool:
        import hvac.exceptions as vault_errors  # noqa: PLC0415

        direct.token = token
        try:
            direct.auth.token.lookup_self()
        except vault_errors.Forbidden:
            return False
        return True

    @staticmethod
    def _no_token(
        sm: Any, props: Mapping[str, Any], olds: Mapping[str, Any] | None, refused: str
    ) -> BootstrapError:
        address, secret_id = props["address"], props["break_glass_secret_id"]
        adopt_howto = (
            "Get a root token with the recovery shares from the break-glass secret (`vault operator "
            "generate-root`), or use a token with the admin policy, then `pulumi config set --secret "
            "vaultAdoptToken` and re-run `pulumi up`; the run issues a fresh provisioner token, after which "
            "remove the config (`pulumi config rm vaultAdoptToken`) and revoke the token you supplied"
        )
        if refused:
            return BootstrapError(f"{refused}. {adopt_howto}")
        if break_glass.init_pending(sm, secret_id):
            return BootstrapError(
                f"Vault at {address} is initialised, but the break-glass secret {secret_id} still marks an "
                "unfinished init: an earlier run initialised Vault and could not store its recovery shares. "
                "The cluster holds no data yet: wipe its raft data (replace every Vault node with an empty "
                "data volume), then re-run `pulumi up`. If you do hold a working root token for it, set it "
                "as vaultAdoptToken instead"
            )
        kept_in = props.get("resume_secret_id") or secret_id
        return BootstrapError(
            f"Vault at {address} is already initialised and this stack has no token for it (no previous "
            f"state, no adopt token, and no unrevoked root token in {kept_in}). {adopt_howto}"
        )

    @staticmethod
    def _provisioner(
        direct: Any, inputs: BootstrapInputs, olds: Mapping[str, Any] | None, session: Session
    ) -> dict[str, Any]:
        """The provisioner token for later runs: renewed if this run used it, else newly issued."""
        period = str(inputs.provisioner_period or PROVISIONER_PERIOD)
        renew_after = (_now() + timedelta(seconds=vault_config.duration_seconds(period) / 2)).isoformat()
        if session.kind == "provisioner" and olds is not None:
            return {
                "provisioner_token": session.token,
                "provisioner_accessor": str(olds.get("provisioner_accessor") or ""),
                "provisioner_renew_after": renew_after,
            }
        # An orphan: revoking the root (or adopt) token that created it must not revoke it too.
        created = direct.auth.token.create_orphan(
            policies=[PROVISIONER_POLICY],
            no_default_policy=True,
            period=period,
            renewable=True,
            display_name="pulumi-provisioner",
            meta={"created_by": "candlefish-secrets vault bootstrap"},
        )
        auth = created["auth"]
        return {
            "provisioner_token": str(auth["client_token"]),
            "provisioner_accessor": str(auth["accessor"]),
            "provisioner_renew_after": renew_after,
        }

    @staticmethod
    def _revoke_root(vault: Any, direct: Any, address: str, issued_accessor: str) -> None:
        """Revoke the root token. If that fails, the run fails and no state keeps the provisioner token it
        just issued, so take that token back first; if even that fails, the error names its accessor."""
        import hvac.exceptions as vault_errors  # noqa: PLC0415

        try:
            direct.auth.token.revoke_self()
            return
        except vault_errors.Forbidden:
            return  # already revoked: the goal is met
        except Exception as error:
            failure = explain(error, address, "revoking the root token")
        try:
            vault.auth.token.revoke_accessor(issued_accessor)
        except Exception:
            raise BootstrapError(
                f"{failure}. The provisioner token this run issued is kept in no state and could not be "
                f"revoked either: revoke it with `vault token revoke -accessor {issued_accessor}` (root or "
                "admin token) before re-running"
            ) from None
        raise BootstrapError(
            f"{failure}. The provisioner token this run issued was revoked again, so nothing is left behind; "
            "the next run resumes with the root token the bootstrap stored"
        )


@contextlib.contextmanager
def _admin_for_protected_policies(
    props: Mapping[str, Any], session: Session, wanted: Mapping[str, Any], live: Mapping[str, Any]
) -> Iterator[Any]:
    """A client with the adopt token when this run acts as the provisioner and a setting the provisioner may
    not write differs (`vault_config.PROTECTED_POLICIES`, the break-glass token roles and broker role); None
    when nothing of the kind is to be written.
    Without an adopt token that can write them, nothing is written and the error says what to do."""
    blocked = vault_reconcile.protected_differences(wanted, live)
    if session.kind != "provisioner" or not blocked:
        yield None
        return
    names = ", ".join(name for name, _path in blocked)
    only_policies = all(path.startswith("sys/policies/") for _name, path in blocked)
    one, several = ("policy", "policies") if only_policies else ("setting", "settings")
    what, them = (f"{one} differs", "it") if len(blocked) == 1 else (f"{several} differ", "them")
    howto = (
        f"Vault's {names} {what} from the declared text, and the provisioner token may not write {them} (by "
        "design: it could raise its own rights); nothing was written. For one run, give a root token or "
        "one with the admin policy: `pulumi config set --secret vaultAdoptToken <token>` and `pulumi up` "
        f"(the run writes {them} with that token), then `pulumi config rm vaultAdoptToken` and revoke that "
        "token"
    )
    adopt = plain(props.get("adopt_token"))
    if not adopt:
        raise BootstrapError(howto)
    address = props["address"]
    with common.vault_client(
        address,
        props.get("ca_pem") or "",
        adopt,
        timeout=TIMEOUT_S,
        retry_total=RETRY_TOTAL,
        backoff=RETRY_BACKOFF_S,
    ) as admin:
        paths = [path for _name, path in blocked]
        try:
            answer = admin.sys.get_capabilities(paths=paths)
        except Exception as error:
            raise explain(
                error, address, f"checking that vaultAdoptToken may write {names}", "adopt"
            ) from None
        granted = answer.get("data") or answer
        if not all(_may_write(granted.get(path)) for path in paths):
            raise BootstrapError(f"vaultAdoptToken may not write {names}: {howto}")
        yield admin


def _may_write(capabilities: Any) -> bool:
    held = set(capabilities or [])
    return "root" in held or {"create", "update"} <= held


def _storage_lost(address: str) -> BootstrapError:
    return BootstrapError(
        f"Vault at {address} is not initialised, yet this stack bootstrapped it before: the cluster's "
        "storage was lost or the address now points at a new cluster. Initialise it by hand and restore the "
        "latest raft snapshot (`vault operator raft snapshot restore`), or replace this resource "
        "(`pulumi up --replace <urn>`) to start afresh"
    )


def _token_fingerprint(value: Any) -> str:
    token = plain(value)
    return fingerprint(str(token)) if token else ""


# The provider's own outputs besides the echoed inputs: property names in state, like the inputs.
OUTPUTS = (
    "provisioner_token",
    "provisioner_accessor",
    "provisioner_renew_after",
    "config_digest",
    "drift",
    "changes",
    "managed_policies",
    "managed_aws_roles",
    "bootstrap",
    "break_glass_version_id",
    "root_token_revoked",
    "adopt_token_fingerprint",
    "on_delete",
)


class BootstrappedVault(pulumi.dynamic.Resource, module="candlefish", name="BootstrappedVault"):
    """A Vault cluster initialised and configured by the bootstrap provider (see the module docstring)."""

    provisioner_token: pulumi.Output[str]
    provisioner_accessor: pulumi.Output[str]
    config_digest: pulumi.Output[str]
    drift: pulumi.Output[str]
    break_glass_version_id: pulumi.Output[str]
    root_token_revoked: pulumi.Output[bool]
    on_delete: pulumi.Output[str]

    def __init__(
        self, name: str, inputs: BootstrapInputs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # The outputs start unknown; `OUTPUTS` names them (as the provider's results do).
        props = {**inputs.to_properties(), **dict.fromkeys(OUTPUTS)}
        # The engine encrypts the provisioner token in state because it is listed here.
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["provisioner_token"])
        super().__init__(
            VaultBootstrapProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret_outputs)
        )
