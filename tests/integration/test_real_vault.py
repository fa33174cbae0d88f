"""Opt-in: the rotation Lambda's Vault client against a real Vault (or OpenBao) at VAULT_ADDR.

What rotation relies on and the test server can only imitate: a stale check-and-set write is refused with an
error that says "check-and-set" (the Lambda turns exactly that into "changed while rotating"), and a
merge-patch of custom metadata keeps the keys it does not name. Needs VAULT_ADDR and VAULT_TOKEN (a token
that may write and delete under `<mount>/candlefish-integration/`); VAULT_CACERT for a private CA;
CANDLEFISH_IT_KV_MOUNT names a KV v2 mount (default `secret`). Everything it writes is deleted at the end.
"""

import os
import uuid
from pathlib import Path

import pytest

from lambdas.rotation.vault import VaultClient, VaultError

pytestmark = pytest.mark.integration(target="vault")


@pytest.fixture
def real_vault():
    ca_file = os.environ.get("VAULT_CACERT", "")
    client = VaultClient(
        address=os.environ["VAULT_ADDR"],
        ca_pem=Path(ca_file).read_text() if ca_file else "",
        token=os.environ["VAULT_TOKEN"],
    )
    mount = os.environ.get("CANDLEFISH_IT_KV_MOUNT", "secret")
    path = f"candlefish-integration/{uuid.uuid4()}"
    yield client, mount, path
    client.call("DELETE", f"{mount}/metadata/{path}")


def test_a_stale_check_and_set_write_is_refused_with_the_words_rotation_looks_for(real_vault):
    client, mount, path = real_vault
    assert client.kv_current_version(mount, path) == 0
    assert client.kv_write(mount, path, {"value": "example-not-a-secret-1"}, cas=0) == 1
    with pytest.raises(VaultError) as refused:
        client.kv_write(mount, path, {"value": "example-not-a-secret-2"}, cas=0)
    assert refused.value.status == 400
    assert "check-and-set" in str(refused.value)
    assert client.kv_read(mount, path) == ({"value": "example-not-a-secret-1"}, 1)


def test_merging_custom_metadata_keeps_the_keys_it_does_not_name(real_vault):
    client, mount, path = real_vault
    client.kv_write(mount, path, {"value": "example-not-a-secret"}, cas=0)
    client.kv_merge_metadata(mount, path, {"owner": "platform"})
    client.kv_merge_metadata(mount, path, {"rotated_by": "secrets-manager"})
    custom = client.call("GET", f"{mount}/metadata/{path}")["data"]["custom_metadata"]
    assert custom == {"owner": "platform", "rotated_by": "secrets-manager"}
