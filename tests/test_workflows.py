"""The GitHub workflows parse, call only what exists here, and keep to least privilege."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.support.mocks import ROOT
from tools import preview

WORKFLOWS = ROOT / ".github" / "workflows"
MAKE_TARGETS = set(re.findall(r"^([\w./-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@(?:v\d+(?:\.\d+)*|[0-9a-f]{40})$")


def load(name):
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow):
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True


def steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, job, step


def commands(run: str):
    """Each shell command of a `run:` block (continuation lines joined, GitHub expressions blanked)."""
    script = re.sub(r"\$\{\{[^}]*\}\}", "X", run.replace("\\\n", " "))
    for raw in script.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            yield shlex.split(line.split(" >> ")[0])


ALL = sorted(p.name for p in WORKFLOWS.glob("*.yml"))


def test_both_workflows_exist():
    assert ALL == ["deploy.yml", "pull-request.yml"]


@pytest.mark.parametrize("name", ALL)
def test_least_privilege_and_pinned_actions(name):
    workflow = load(name)
    assert workflow["permissions"] == {"contents": "read"}
    for job_name, job, step in steps(workflow):
        if "uses" in step:
            assert PINNED.match(step["uses"]), f"{job_name}: {step['uses']} is not pinned to a version"
        if step.get("uses", "").startswith("aws-actions/configure-aws-credentials"):
            assert step["with"]["role-to-assume"].startswith("${{ vars."), (
                "roles come from repository variables"
            )
            assert "aws-access-key-id" not in step["with"]
            assert job["permissions"]["id-token"] == "write"
    for job_name, job in workflow["jobs"].items():
        if job.get("permissions", {}).get("id-token") == "write":
            assert "vars.AWS_" in job.get("if", ""), (
                f"{job_name} assumes a role without checking one is configured"
            )


@pytest.mark.parametrize("name", ALL)
def test_every_command_calls_an_existing_make_target_or_module(name):
    for job_name, _, step in steps(load(name)):
        for argv in commands(step.get("run", "")):
            if argv[0] == "make":
                missing = [t for t in argv[1:] if t not in MAKE_TARGETS]
                assert not missing, f"{job_name}: no make target {missing}"
            if "-m" in argv:
                module = argv[argv.index("-m") + 1]
                assert Path(ROOT, *module.split(".")).with_suffix(".py").is_file(), f"{job_name}: no {module}"
                if module == "tools.preview":
                    preview._arguments(argv[argv.index("-m") + 2 :])  # argparse exits on an unknown flag


def test_pull_requests_run_the_tests_and_post_the_offline_preview():
    workflow = load("pull-request.yml")
    assert triggers(workflow)["pull_request"]["branches"] == ["main"]
    runs = [step.get("run", "") for _, _, step in steps(workflow)]
    assert any("make test" in run for run in runs)
    assert any("tools.preview" in run and "--format markdown" in run and "--against" in run for run in runs)
    posting = [
        s for _, _, s in steps(workflow) if s.get("uses", "").startswith("marocchino/sticky-pull-request")
    ]
    assert posting and posting[0]["with"]["path"] == "preview.md"
    assert workflow["jobs"]["offline-preview"]["permissions"]["pull-requests"] == "write"


@pytest.mark.parametrize(
    ("name", "job", "command"),
    [("pull-request.yml", "cloud-preview", "preview"), ("deploy.yml", "deploy", "up")],
)
def test_the_cli_runs_with_the_policy_pack(name, job, command):
    pulumi = [s for s in load(name)["jobs"][job]["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi and pulumi[0]["with"]["command"] == command
    assert pulumi[0]["with"]["policyPacks"] == "policies"


def test_deploys_run_on_main_behind_the_production_environment():
    workflow = load("deploy.yml")
    assert triggers(workflow)["push"]["branches"] == ["main"]
    deploy = workflow["jobs"]["deploy"]
    assert deploy["environment"] == "production"
    assert deploy["needs"] == "test"
    assert workflow["concurrency"]["cancel-in-progress"] is False
