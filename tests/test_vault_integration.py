"""Opt-in checks against a real HashiCorp Vault (or any Vault-API server you point them at).

Run with `VAULT_ADDR` (and `VAULT_CACERT` for a private CA) and `VAULT_TOKEN` set to a token that may
write ACL policies and KV v2 under `secret/`, e.g. a dev server (`vault server -dev`):

    VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=... venv/bin/python -m pytest -m integration \
        tests/test_vault_integration.py

Without them every test here is skipped. Everything written is under `secret/candlefish-integration-<id>/`
and a policy named `candlefish-integration-<id>`, removed at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest

from components.vault.policies import render_provisioner_policy
from providers.common import fingerprint
from providers.vault_kv_seed import VaultKvSeedProvider

pytestmark = [
    pytest.mark.integration(target="vault"),
    pytest.mark.skipif(
        not (os.environ.get("VAULT_ADDR") and os.environ.get("VAULT_TOKEN")),
        reason="set VAULT_ADDR and VAULT_TOKEN to run against a real Vault",
    ),
]
RUN = f"candlefish-integration-{uuid.uuid4().hex[:8]}"


def client(token: str) -> hvac.Client:
    ca = os.environ.get("VAULT_CACERT")
    return hvac.Client(url=os.environ["VAULT_ADDR"], token=token, verify=ca or True)


@pytest.fixture(scope="module")
def vault() -> Iterator[hvac.Client]:
    root = client(os.environ["VAULT_TOKEN"])
    yield root
    for key in root.secrets.kv.v2.list_secrets(path=RUN, mount_point="secret")["data"]["keys"]:
        root.secrets.kv.v2.delete_metadata_and_all_versions(path=f"{RUN}/{key}", mount_point="secret")
    root.sys.delete_policy(RUN)


def seed_props(vault: hvac.Client, token: str, value: str) -> dict:
    return {
        "address": os.environ["VAULT_ADDR"],
        "ca_pem": Path(os.environ["VAULT_CACERT"]).read_text() if os.environ.get("VAULT_CACERT") else "",
        "token": token,
        "mount": "secret",
        "path": f"{RUN}/seed",
        "value": value,
        "reseed": "",
        "custom_metadata": {"owner": "security-team"},
        "destroy_on_delete": False,
    }


@pytest.fixture(scope="module")
def provisioner(vault: hvac.Client) -> str:
    vault.sys.create_or_update_acl_policy(name=RUN, policy=render_provisioner_policy(region="us-east-1"))
    return str(
        vault.auth.token.create(policies=[RUN], ttl="15m", no_default_policy=True)["auth"]["client_token"]
    )


def test_a_seed_is_created_deleted_and_created_again_with_the_provisioner_policy(vault, provisioner):
    provider = VaultKvSeedProvider()
    created = provider.create(seed_props(vault, provisioner, "example-not-a-secret-1")).outs
    assert created is not None
    provider.delete("id", created)
    again = provider.create(seed_props(vault, provisioner, "example-not-a-secret-2")).outs
    assert again is not None
    assert again["version"] == 2
    assert again["fingerprint"] == fingerprint("example-not-a-secret-2")


def test_the_provisioner_policy_cannot_create_tokens(vault, provisioner):
    with pytest.raises(hvac.exceptions.Forbidden):
        client(provisioner).auth.token.create(policies=["default"])
