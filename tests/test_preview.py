"""The offline preview: tree, formats, masking, and clean config errors."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest

from components.network import INTERFACE_ENDPOINT_SERVICES
from tests.support.mocks import ROOT, run_program
from tools import preview
from tools.plan import SECRET, Plan, mask

pytestmark = pytest.mark.slow
FAKE_ANCHOR = "-----BEGIN CERTIFICATE-----\nZXhhbXBsZQ==\n-----END CERTIFICATE-----"


def test_text_preview_shows_components_and_counts(capsys):
    assert preview.main(["--stack", "production"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("candlefish-secrets / production: ")
    for component in (
        "Keys keys",
        "Network network",
        "UnsealKey unseal",
        "Storage storage",
        "VaultCluster vault",
    ):
        assert component in out
    # S3 and DynamoDB gateways, and one interface endpoint per service the private subnets call.
    assert f"aws:ec2/vpcEndpoint:VpcEndpoint x{2 + len(INTERFACE_ENDPOINT_SERVICES)}" in out
    assert "aws:ec2/natGateway:NatGateway x3" in out
    assert "aws:autoscaling/group:Group x1" in out
    # audit and its staging, snapshots, ALB logs, S3 server access logs, function artifacts, and the audit and
    # snapshot replicas in the DR region.
    assert "aws:s3/bucket:Bucket x8" in out


def test_json_plan_lists_every_resource_with_engine_shaped_fields(tmp_path):
    target = tmp_path / "plan.json"
    assert preview.main(["--stack", "production", "--format", "json", "--output", str(target)]) == 0
    plan = json.loads(target.read_text())
    assert plan["stack"] == "production"
    assert {"type", "name", "urn", "parent", "id", "inputs", "outputs"} == set(plan["resources"][0])
    vpc = next(r for r in plan["resources"] if r["type"] == "aws:ec2/vpc:Vpc")
    assert vpc["inputs"]["cidrBlock"] == "10.0.0.0/16"  # camelCase, as the engine sees inputs
    # References can be followed by id: every subnet's vpcId is the VPC's id.
    subnets = [r for r in plan["resources"] if r["type"] == "aws:ec2/subnet:Subnet"]
    assert {s["inputs"]["vpcId"] for s in subnets} == {vpc["id"]}


def test_markdown_preview_is_a_table_per_component(tmp_path):
    target = tmp_path / "comment.md"
    assert preview.main(["--stack", "dev", "--format", "markdown", "--output", str(target)]) == 0
    text = target.read_text()
    assert text.startswith("### Offline preview: `dev`")
    assert "| Network network |" in text


def test_secret_inputs_and_outputs_are_masked():
    recording = run_program(
        "production",
        overrides={
            "candlefish-secrets:hsmTrustAnchorCertificate": FAKE_ANCHOR,
        },
    )
    plan = Plan.from_recording(recording)
    password = next(r for r in plan.resources if r.type == "random:index/randomPassword:RandomPassword")
    assert password.outputs["result"] == SECRET
    store = next(r for r in plan.resources if r.type == "aws:kms/customKeyStore:CustomKeyStore")
    assert store.inputs["keyStorePassword"] == SECRET
    rendered = json.dumps(plan.to_json())
    raw = next(r for r in recording.resources if r.type == "random:index/randomPassword:RandomPassword")
    assert raw.outputs["result"] not in rendered


def test_mask_replaces_nested_paths_only():
    assert mask({"a": {"b": 1, "c": 2}, "d": [3, 4]}, {"a.b", "d[1]"}) == {
        "a": {"b": SECRET, "c": 2},
        "d": [3, SECRET],
    }


def copy_project(tmp_path: Path, stack_text: str) -> Path:
    for name in ("__main__.py", "Pulumi.yaml", "components"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    (tmp_path / "Pulumi.broken.yaml").write_text(stack_text)
    return tmp_path


BROKEN = (
    (ROOT / "Pulumi.dev.yaml")
    .read_text()
    .replace("vaultClusterSize: 3", "vaultClusterSize: 4")
    .replace("10.20.0.0/16", "10.20.0.0/8")
)


def test_a_config_mistake_is_a_clean_run_error_listing_every_problem(tmp_path):
    root = copy_project(tmp_path, BROKEN)
    with pytest.raises(pulumi.RunError) as caught:
        run_program("broken", root=root)
    message = str(caught.value)
    assert "candlefish-secrets:vaultClusterSize: 4 is even" in message
    assert "candlefish-secrets:vpcCidr: " in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_preview_exits_2_and_prints_only_the_problems_on_config_error(tmp_path):
    root = copy_project(tmp_path, BROKEN)
    result = subprocess.run(
        [sys.executable, "-m", "tools.preview", "--stack", "broken", "--root", str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "vaultClusterSize: 4 is even" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_preview_exits_2_naming_the_line_of_a_stack_file_that_is_not_yaml(tmp_path, capsys):
    root = copy_project(tmp_path, "config:\n  candlefish-secrets:environment: [dev\n  aws:region: x\n")
    assert preview.main(["--stack", "broken", "--root", str(root)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: Pulumi.broken.yaml, line 3, column ")
    assert "not valid YAML" in captured.err and captured.out == ""


def test_preview_of_an_unknown_stack_names_the_known_ones(capsys):
    assert preview.main(["--stack", "staging"]) == 2
    assert "stacks here: dev, dr, production" in capsys.readouterr().err


def test_a_zone_the_account_cannot_use_is_a_clean_error():
    with pytest.raises(pulumi.RunError) as caught:
        run_program(
            "dev",
            overrides={"candlefish-secrets:availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1z"]},
        )
    assert (
        "candlefish-secrets:availabilityZones: us-east-1z not available to this account in us-east-1"
        in str(caught.value)
    )
