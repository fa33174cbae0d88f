"""The plan-identity check (tools/plan_identity.py) reports every kind of difference a refactoring makes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tools.plan_identity import differences, main

URN = "urn:pulumi:production::candlefish-secrets::candlefish:secrets:Keys$aws:kms/key:Key::keys-data"
PARENT = "urn:pulumi:production::candlefish-secrets::candlefish:secrets:Keys::keys"
OTHER = "urn:pulumi:production::candlefish-secrets::aws:iam/role:Role::role"


def snapshot() -> dict[str, Any]:
    resource = {
        "parent": PARENT,
        "inputs": {"description": "data", "tags": {"Name": "candlefish-production-data"}},
        "dependencies": [OTHER],
        "property_dependencies": {"policy": [OTHER]},
        "protect": False,
        "ignore_changes": [],
        "additional_secret_outputs": [],
    }
    return {
        "resources": {URN: resource, PARENT: {**resource, "parent": None}, OTHER: {**resource}},
        "outputs": {"dataKeyArn": "arn:aws:kms:us-east-1:123456789012:key/data"},
        "warnings": [],
    }


def test_the_same_snapshot_has_no_differences():
    assert differences(snapshot(), snapshot()) == []


@pytest.mark.parametrize(
    ("aspect", "value"),
    [
        ("inputs", {"description": "data", "tags": {"Name": "candlefish-production-other"}}),
        ("dependencies", []),
        ("property_dependencies", {}),
        ("parent", OTHER),
        ("protect", True),
        ("ignore_changes", ["tags"]),
    ],
)
def test_each_aspect_of_a_resource_is_compared(aspect, value):
    after = copy.deepcopy(snapshot())
    after["resources"][URN][aspect] = value
    assert differences(snapshot(), after) == [f"changed {aspect}: {URN}"]


def test_added_and_removed_urns_and_stack_outputs_are_reported():
    after = copy.deepcopy(snapshot())
    after["resources"][URN + "-2"] = after["resources"].pop(URN)
    after["outputs"]["dataKeyArn"] = "arn:aws:kms:us-east-1:123456789012:key/other"
    assert differences(snapshot(), after) == [
        f"removed: {URN}",
        f"added: {URN}-2",
        "changed stack outputs",
    ]


def test_a_listed_rename_is_not_a_difference_and_is_followed_into_references():
    renamed = URN.replace("keys-data", "keys-data-key")
    after = copy.deepcopy(snapshot())
    after["resources"][renamed] = after["resources"].pop(URN)
    before = copy.deepcopy(snapshot())
    before["resources"][OTHER]["dependencies"] = [URN]
    after["resources"][OTHER]["dependencies"] = [renamed]
    assert differences(before, after, {URN: renamed}) == []
    assert differences(before, after) != []


def test_a_malformed_rename_is_refused_with_the_expected_form(capsys):
    with pytest.raises(SystemExit):
        main(["--base", "HEAD", "--rename", "keys-data"])
    assert "--rename takes OLD_URN=NEW_URN, not 'keys-data'" in capsys.readouterr().err
