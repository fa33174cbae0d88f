"""The offline preview with the policy pack: results by level, exit codes, the PR comment, revision diffs."""

import json
import re
import shutil
import subprocess

import pytest

from components.lib.key_policies import PURPOSES
from policies.rules import ALL_POLICIES
from tests.support.mocks import ROOT
from tools import preview
from tools.diagram import component_edges, mermaid
from tools.plan import SECRET, Plan, PlannedResource
from tools.plan_diff import MISSING, Change, diff_plans, property_changes

pytestmark = pytest.mark.slow


def test_text_preview_ends_with_the_policy_verdict(capsys):
    assert preview.main(["--stack", "production"]) == 0
    out = capsys.readouterr().out
    count = len(ALL_POLICIES)
    assert re.search(
        rf"\nPolicies: {count} rules over \d+ resources: 0 mandatory, \d+ advisory finding\(s\) \(pass\)\n",
        out,
    )


def test_a_mandatory_violation_exits_1_and_is_listed_by_level_resource_and_rule(tmp_path, capsys):
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"required-tags": {"requiredTags": ["CostCenter"]}, "all": "mandatory"}))
    assert preview.main(["--stack", "dev", "--policy-pack-config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "  mandatory:\n" in out
    assert "    network-vpc (aws:ec2/vpc:Vpc)\n      [required-tags] missing required tags: CostCenter" in out


def test_a_broken_policy_pack_config_exits_2(tmp_path, capsys):
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"no-such-rule": "advisory"}))
    assert preview.main(["--stack", "dev", "--policy-pack-config", str(config)]) == 2
    assert "no-such-rule: no such rule in the pack" in capsys.readouterr().err


def test_dry_run_reports_rules_that_cannot_run_yet_as_advisory(capsys):
    assert preview.main(["--stack", "production", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "  advisory:\n" in out and "(preview) can't run policy" in out


def test_the_pull_request_comment_has_resources_policies_and_a_component_diagram(tmp_path):
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"log-group-retention": {"productionMinimumDays": 400}}))
    comment = tmp_path / "comment.md"
    args = ["--stack", "production", "--format", "markdown", "--output", str(comment)]
    assert preview.main([*args, "--policy-pack-config", str(config)]) == 0
    text = comment.read_text()
    assert text.startswith("### Offline preview: `production`")
    assert "#### Policy results" in text and "**Advisory**" in text
    assert (
        "| network-flow-logs (aws:cloudwatch/logGroup:LogGroup) | `log-group-retention` | "
        "log group keeps 365 days; at least 400 here |" in text
    )
    assert "```mermaid\nflowchart LR\n" in text
    assert 'Network_network -->|"Key x1"| Keys_keys' in text


def test_the_json_plan_carries_the_policy_report(tmp_path):
    target = tmp_path / "plan.json"
    assert preview.main(["--stack", "dev", "--format", "json", "--output", str(target)]) == 0
    plan = json.loads(target.read_text())
    assert plan["policies"]["policies"] == len(ALL_POLICIES)
    assert all(finding["level"] == "advisory" for finding in plan["policies"]["findings"])
    assert {"type", "name", "urn", "parent", "id", "inputs", "outputs"} == set(plan["resources"][0])


def test_components_are_connected_by_the_references_between_their_resources(production):
    edges = component_edges(Plan.from_recording(production))
    assert {("Network network", "Keys keys"), ("UnsealKey unseal", "Network network")} <= set(edges)
    assert edges[("UnsealKey unseal", "Network network")] == {"Subnet": 3}
    diagram = mermaid(Plan.from_recording(production))
    assert diagram.startswith("flowchart LR\n")
    # A key and an alias per purpose but the unseal key's (UnsealKey's own), and the service-linked role.
    keys = 2 * (len(PURPOSES) - 1) + 1
    assert f'    Keys_keys["Keys keys<br/>{keys} resources"]' in diagram
    assert '    UnsealKey_unseal -->|"Subnet x3"| Network_network' in diagram


def test_property_changes_are_paths_into_objects_and_lists():
    before = {"tags": {"Name": "a", "Old": "x"}, "ports": [1, 2], "password": SECRET}
    after = {"tags": {"Name": "b"}, "ports": [1, 2, 3], "password": SECRET}
    assert property_changes(before, after) == [
        Change("ports[2]", MISSING, 3),
        Change("tags.Name", "a", "b"),
        Change("tags.Old", "x", MISSING),
    ]


def _planned(name: str, **inputs: object) -> PlannedResource:
    return PlannedResource(
        "aws:ec2/vpc:Vpc", name, f"urn:{name}", None, f"vpc-{name}", True, dict(inputs), {}
    )


def test_plans_are_compared_by_urn():
    before = Plan("production", (_planned("kept", cidrBlock="10.0.0.0/16"), _planned("gone")), {}, ())
    after = Plan("production", (_planned("kept", cidrBlock="10.1.0.0/16"), _planned("new")), {}, ())
    diff = diff_plans(before, after, "main")
    assert [r.name for r in diff.added] == ["new"] and [r.name for r in diff.removed] == ["gone"]
    assert [c.changes for c in diff.changed] == [(Change("cidrBlock", "10.0.0.0/16", "10.1.0.0/16"),)]
    assert diff.summary() == "1 to add, 1 to change, 1 to delete"


@pytest.fixture
def repository(tmp_path):
    """A git repository holding this checkout's files (as the working tree has them), committed once."""
    listing = ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    names = subprocess.run(listing, capture_output=True, check=True).stdout.decode().split("\0")
    copy = tmp_path / "repository"
    for name in filter(None, names):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    commit = ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base"]
    for command in (["init", "-q"], ["add", "-A"], commit):
        subprocess.run(["git", "-C", str(copy), *command], check=True, capture_output=True)
    return copy


def test_against_a_revision_shows_what_the_change_adds_changes_and_removes(repository, tmp_path):
    stack_file = repository / "Pulumi.production.yaml"
    stack_file.write_text(
        stack_file.read_text().replace("flowLogRetentionDays: 365", "flowLogRetentionDays: 731")
    )
    comment = tmp_path / "comment.md"
    args = ["--stack", "production", "--root", str(repository), "--against", "HEAD", "--format", "markdown"]
    assert preview.main([*args, "--output", str(comment)]) == 0
    text = comment.read_text()
    assert "#### Changes against `HEAD`\n\n0 to add, 1 to change, 0 to delete." in text
    assert "| network-flow-logs (`LogGroup`) | `retentionInDays` | 365 | 731 |" in text


def test_against_an_unknown_revision_says_so(capsys):
    assert preview.main(["--stack", "dev", "--against", "no-such-ref"]) == 1
    assert "no-such-ref" in capsys.readouterr().err
