"""`VaultKvSeed`: write a catalog entry's first value to its Vault KV v2 path, once.

Create writes with check-and-set 0 (only if the path has never been written), so a value rotation has
changed is never overwritten; a retried create that finds its own value adopts it. Only a changed
`reseed` trigger overwrites, with check-and-set against the version just read. Custom metadata carries
owner, type, rotation days and source. State keeps the SHA-256 fingerprint and version, never the value.
Delete soft-deletes the latest version; metadata and all versions are destroyed only when asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from providers import common
from providers.common import SeedError, fingerprint, plain

VALUE_KEY = "value"
TIMEOUT_S = 10
RETRY_TOTAL = 5
RETRY_BACKOFF_S = 0.5


@contextmanager
def vault_client(props: dict[str, Any]) -> Iterator[Any]:
    """An hvac client for the seed's Vault, trusting only the cluster's CA, with retries and timeouts."""
    # Writes are safe to retry: check-and-set turns a repeat into a no-op or a clear conflict.
    with common.vault_client(
        props["address"],
        props.get("ca_pem") or "",
        plain(props["token"]),
        timeout=TIMEOUT_S,
        retry_total=RETRY_TOTAL,
        backoff=RETRY_BACKOFF_S,
    ) as client:
        yield client


def _explain(error: Exception, where: str, address: str, action: str = "write") -> SeedError:
    """A Vault or network failure as an instruction."""
    message = common.explain_vault_error(
        error, address=address, doing=f"{action} {where}", timeout=TIMEOUT_S, note="nothing was written"
    )
    return SeedError(message or f"seeding {where} failed: {type(error).__name__}: {error}")


def _metadata(props: dict[str, Any]) -> dict[str, str]:
    return {str(key): str(value) for key, value in (props.get("custom_metadata") or {}).items()}


class VaultKvSeedProvider(ResourceProvider):
    """CRUD for a KV v2 seed. Holds no clients: each call makes its own (the provider is pickled)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        where = f"{props['mount']}/{props['path']}"
        try:
            with vault_client(props) as client:
                outs = self._seed(client, props, overwrite=False)
        except SeedError:
            raise
        except Exception as error:
            raise _explain(error, where, props["address"]) from None
        return CreateResult(id_=where, outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in ("mount", "path") if olds.get(key) != news.get(key)]
        changes = (
            bool(replaces)
            or any(
                olds.get(key) != news.get(key)
                for key in ("reseed", "custom_metadata", "destroy_on_delete", "address", "ca_pem")
            )
            # A new provisioner token must reach state, or refresh and delete would present the old one.
            or fingerprint(str(plain(olds.get("token")))) != fingerprint(str(plain(news.get("token"))))
        )
        return DiffResult(changes=changes, replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        where = f"{news['mount']}/{news['path']}"
        reseed = olds.get("reseed", "") != news.get("reseed", "")
        try:
            with vault_client(news) as client:
                if reseed:
                    outs = self._seed(client, news, overwrite=True)
                else:
                    self._write_metadata(client, news)
                    outs = {key: olds.get(key) for key in ("fingerprint", "version", "drift")}
                    outs.update(_base_outs(news))
        except SeedError:
            raise
        except Exception as error:
            raise _explain(error, where, news["address"]) from None
        return UpdateResult(outs=outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Report the live value's fingerprint; never writes."""
        import hvac.exceptions as vault_errors  # noqa: PLC0415

        outs = {key: value for key, value in props.items() if key != "value"}
        try:
            with vault_client(props) as client:
                answer = client.secrets.kv.v2.read_secret_version(
                    path=props["path"], mount_point=props["mount"], raise_on_deleted_version=True
                )
        except vault_errors.InvalidPath:
            outs["drift"] = "no live version at the path (deleted outside Pulumi)"
            return ReadResult(id_=id_, outs=outs)
        except Exception as error:
            raise _explain(error, id_, props["address"], "read") from None
        live = fingerprint(str(answer["data"]["data"].get(VALUE_KEY, "")))
        outs["drift"] = (
            "" if live == props.get("fingerprint") else "value changed outside this seed (rotated?)"
        )
        outs["current_version"] = int(answer["data"]["metadata"]["version"])
        return ReadResult(id_=id_, outs=outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        import hvac.exceptions as vault_errors  # noqa: PLC0415

        try:
            with vault_client(props) as client:
                kv = client.secrets.kv.v2
                if props.get("destroy_on_delete"):
                    kv.delete_metadata_and_all_versions(path=props["path"], mount_point=props["mount"])
                else:
                    kv.delete_latest_version_of_secret(path=props["path"], mount_point=props["mount"])
        except vault_errors.InvalidPath:
            return
        except Exception as error:
            raise _explain(error, id_, props["address"], "delete") from None

    def _seed(self, client: Any, props: dict[str, Any], *, overwrite: bool) -> dict[str, Any]:
        import hvac.exceptions as vault_errors  # noqa: PLC0415

        kv = client.secrets.kv.v2
        value = plain(props["value"])
        wanted = fingerprint(value)
        where = f"{props['mount']}/{props['path']}"
        cas = 0
        if overwrite:
            cas = int(
                kv.read_secret_metadata(path=props["path"], mount_point=props["mount"])["data"][
                    "current_version"
                ]
            )
        try:
            version = self._write(kv, props, value, cas)
        except vault_errors.InvalidRequest as error:
            if "check-and-set" not in str(error):
                raise
            # Something is there already. A latest version that was deleted or destroyed (the seed's own
            # delete, a `pulumi destroy`) holds nothing: write the next version over it. If it holds our
            # value (a retried create), adopt it. Anything else is never overwritten.
            metadata = kv.read_secret_metadata(path=props["path"], mount_point=props["mount"])["data"]
            current = int(metadata["current_version"])
            latest = (metadata.get("versions") or {}).get(str(current)) or {}
            if latest.get("deletion_time") or latest.get("destroyed"):
                version = self._write(kv, props, value, current)
            else:
                version = self._adopt(kv, props, wanted, where)
        self._write_metadata(client, props)
        return {**_base_outs(props), "fingerprint": wanted, "version": version, "drift": ""}

    @staticmethod
    def _write(kv: Any, props: dict[str, Any], value: str, cas: int) -> int:
        written = kv.create_or_update_secret(
            path=props["path"], mount_point=props["mount"], secret={VALUE_KEY: value}, cas=cas
        )
        return int(written["data"]["version"])

    @staticmethod
    def _adopt(kv: Any, props: dict[str, Any], wanted: str, where: str) -> int:
        """The live version's number if it holds the wanted value; a SeedError otherwise."""
        current = kv.read_secret_version(
            path=props["path"], mount_point=props["mount"], raise_on_deleted_version=True
        )
        live = (current.get("data") or {}).get("data") or {}
        if fingerprint(str(live.get(VALUE_KEY, ""))) != wanted:
            raise SeedError(
                f"{where} already holds a different value (written outside Pulumi, or rotated); it was "
                "left unchanged. Change the entry's `reseed` trigger to overwrite it on purpose"
            ) from None
        return int(current["data"]["metadata"]["version"])

    @staticmethod
    def _write_metadata(client: Any, props: dict[str, Any]) -> None:
        client.secrets.kv.v2.update_metadata(
            path=props["path"], mount_point=props["mount"], custom_metadata=_metadata(props)
        )


def _base_outs(props: dict[str, Any]) -> dict[str, Any]:
    """What state keeps besides the fingerprint: everything refresh and delete need, which arrive with the
    state alone. The token is a secret output (see `VaultKvSeed`); the value is never kept."""
    return {
        "address": props["address"],
        "ca_pem": props.get("ca_pem") or "",
        "token": props["token"],
        "mount": props["mount"],
        "path": props["path"],
        "reseed": props.get("reseed", ""),
        "custom_metadata": _metadata(props),
        "destroy_on_delete": bool(props.get("destroy_on_delete")),
    }


class VaultKvSeed(pulumi.dynamic.Resource, module="candlefish", name="VaultKvSeed"):
    """Seeds `<mount>/<path>` in Vault KV v2 once with `value` (a Pulumi secret)."""

    fingerprint: pulumi.Output[str]
    version: pulumi.Output[int]
    drift: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        address: pulumi.Input[str],
        ca_pem: pulumi.Input[str],
        token: pulumi.Input[str],
        path: str,
        value: pulumi.Input[str],
        custom_metadata: dict[str, str],
        mount: str = "secret",
        reseed: str = "",
        destroy_on_delete: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "address": address,
            "ca_pem": ca_pem,
            "token": pulumi.Output.secret(token),
            "mount": mount,
            "path": path,
            "value": pulumi.Output.secret(value),
            "custom_metadata": custom_metadata,
            "reseed": reseed,
            "destroy_on_delete": destroy_on_delete,
            "fingerprint": None,
            "version": None,
            "drift": None,
        }
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["token"])
        super().__init__(
            VaultKvSeedProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret_outputs)
        )
