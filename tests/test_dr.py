"""The DR region: config rules between drRegion, CloudHSM and the DR stack, multi-Region keys with replicas
in the primary stack, and the DR stack (Pulumi.dr.yaml) that unseals with the replica and seeds nothing."""

from __future__ import annotations

import json

import pytest

from components.config.dr import replica_arn
from tests.support.mocks import run_program
from tests.test_config import parse, problems

NS = "candlefish-secrets"
REPLICA = "arn:aws:kms:us-west-2:123456789012:key/mrk-0123456789abcdef0123456789abcdef"


def test_production_is_hsm_backed_and_says_it_accepts_no_cross_region_unseal():
    config = parse("production")
    assert config.keys.enable_hsm and config.storage.dr_region == "us-west-2"
    assert config.dr.accept_no_cross_region_unseal and not config.dr.multi_region_keys


def test_an_hsm_backed_stack_with_a_dr_region_must_choose():
    found = problems("production", drAcceptNoCrossRegionUnseal=None)
    assert len(found) == 1 and found[0].startswith(f"{NS}:drRegion: is set on an HSM-backed stack")
    assert "enableHsm: false" in found[0] and "drAcceptNoCrossRegionUnseal: true" in found[0]


def test_without_hsm_a_dr_region_makes_the_keys_multi_region():
    config = parse("production", {"enableHsm": False, "drAcceptNoCrossRegionUnseal": None})
    assert config.dr.multi_region_keys


@pytest.mark.parametrize(
    ("overrides", "key", "words"),
    [
        ({"enableHsm": False}, "drAcceptNoCrossRegionUnseal", "only applies to an HSM-backed stack"),
        ({"unsealKeyReplicaArn": REPLICA.replace("mrk-", "")}, "unsealKeyReplicaArn", "multi-Region KMS key"),
        ({"unsealKeyReplicaArn": REPLICA}, "unsealKeyReplicaArn", "not this stack's region us-east-1"),
        ({"restoreMode": True}, "restoreMode", "set unsealKeyReplicaArn"),
    ],
)
def test_bad_dr_settings_are_named_with_what_is_allowed(overrides, key, words):
    found = [problem for problem in problems("production", **overrides) if problem.startswith(f"{NS}:{key}:")]
    assert found and words in found[0], found


def test_the_dr_stack_parses_in_restore_mode_with_the_replica():
    config = parse("dr")
    assert config.dr.restore_mode
    assert (config.dr.unseal_key_replica_arn or "").startswith("arn:aws:kms:us-west-2:")
    assert config.environment == "production-dr" and config.storage.dr_region is None


def test_a_replica_arn_is_the_primary_arn_in_another_region():
    assert replica_arn(REPLICA.replace("us-west-2", "us-east-1"), "us-west-2") == REPLICA


@pytest.fixture(scope="module")
def non_hsm_primary():
    return run_program(
        "production", overrides={f"{NS}:enableHsm": False, f"{NS}:drAcceptNoCrossRegionUnseal": None}
    )


@pytest.mark.slow
def test_the_unseal_and_data_keys_are_multi_region_with_replicas_in_the_dr_region(non_hsm_primary):
    keys = {
        k.inputs["tags"]["KeyPurpose"]: k
        for k in non_hsm_primary.of_type("aws:kms/key:Key")
        if "region" not in k.inputs
    }
    assert keys["unseal"].inputs["multiRegion"] is True and keys["data"].inputs["multiRegion"] is True
    for purpose in ("logs", "secrets", "notifications"):
        assert "multiRegion" not in keys[purpose].inputs, purpose
    replicas = {
        r.inputs["tags"]["KeyPurpose"]: r for r in non_hsm_primary.of_type("aws:kms/replicaKey:ReplicaKey")
    }
    assert set(replicas) == {"unseal", "data"}
    unseal = replicas["unseal"]
    assert (
        unseal.inputs["region"] == "us-west-2"
        and unseal.inputs["primaryKeyArn"] == keys["unseal"].outputs["arn"]
    )
    statement = next(
        s for s in json.loads(unseal.inputs["policy"])["Statement"] if s["Sid"] == "UnsealThroughIamPolicies"
    )
    # The DR stack's node role, named before that stack exists (a condition, not a principal).
    assert statement["Condition"]["ArnEquals"]["aws:PrincipalArn"].endswith(
        ":role/candlefish-production-dr-vault-node"
    )
    data_policy = json.loads(replicas["data"].inputs["policy"])
    via = next(s for s in data_policy["Statement"] if s["Sid"] == "UseViaStorageServices")
    assert "s3.us-west-2.amazonaws.com" in via["Condition"]["StringEquals"]["kms:ViaService"]
    assert non_hsm_primary.outputs["unsealKeyReplicaArn"] == unseal.outputs["arn"]


@pytest.mark.slow
def test_an_hsm_backed_production_makes_no_multi_region_key(production):
    assert not production.of_type("aws:kms/replicaKey:ReplicaKey")
    assert all("multiRegion" not in key.inputs for key in production.of_type("aws:kms/key:Key"))


@pytest.fixture(scope="module")
def dr_stack():
    return run_program("dr")


@pytest.mark.slow
def test_the_dr_stack_unseals_with_the_replica_and_seeds_nothing_into_vault(dr_stack):
    config = parse("dr")
    assert dr_stack.outputs["unsealKeyArn"] == config.dr.unseal_key_replica_arn
    assert dr_stack.outputs["unsealKeyBacking"] == "kms-replica"
    assert all(k.inputs["tags"]["KeyPurpose"] != "unseal" for k in dr_stack.of_type("aws:kms/key:Key"))
    assert not [r for r in dr_stack.resources if "VaultKvSeed" in r.type or "vault-seed" in r.name]
    assert not [r for r in dr_stack.resources if "VaultDatabase" in r.type]
    # the nodes' role may use the replica: Vault's awskms seal names it
    node_policy = next(
        r for r in dr_stack.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("node-policy")
    )
    assert config.dr.unseal_key_replica_arn in node_policy.inputs["policy"]
