"""The GitHub workflows parse, call only what exists here, and keep to least privilege.

The deploy workflow assumes an AWS role through OIDC, so a third-party action is production access. The
rules `workflow_problems` enforces on every workflow: each `uses:` is pinned to a full commit SHA with its
release in a comment (Dependabot keeps both current), checkout never leaves the token in .git/config, the
workflow grants nothing by default and each job only the permissions its steps use, and no `${{ }}`
expression is expanded inside a `run:` script (values reach the shell through `env:`).
"""

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.mocks import ROOT
from tools import preview

WORKFLOWS = ROOT / ".github" / "workflows"
MAKE_TARGETS = set(re.findall(r"^([\w./-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<comment>\s+#.*)?$")
VERSION_COMMENT = re.compile(r"^\s+# v\d+\.\d+\.\d+\b")
EXPRESSION = re.compile(r"\$\{\{")
# What each permission is for: a job may hold it only if one of its steps uses one of these actions.
PERMISSION_USERS = {
    ("id-token", "write"): ("aws-actions/configure-aws-credentials@",),
    ("pull-requests", "write"): ("marocchino/sticky-pull-request-comment@", "pulumi/actions@"),
}


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


def _pin_problems(text: str) -> Iterator[str]:
    for number, line in enumerate(text.splitlines(), 1):
        match = USES_LINE.match(line)
        if not match or match["ref"].startswith(("./", "docker://")):
            continue
        if not PINNED.match(match["ref"]):
            yield f"line {number}: {match['ref']} is not pinned to a full commit SHA"
        elif not VERSION_COMMENT.match(match["comment"] or ""):
            yield f"line {number}: {match['ref']} has no `# vX.Y.Z` comment naming its release"


def _job_problems(job_name: str, job: dict) -> Iterator[str]:
    used = [str(step.get("uses", "")) for step in job.get("steps", [])]
    granted = job.get("permissions")
    if not isinstance(granted, dict):
        yield f"{job_name}: permissions must be listed per job, not {granted!r}"
        granted = {}
    for scope, level in granted.items():
        users = PERMISSION_USERS.get((scope, level), ())
        if (scope, level) != ("contents", "read") and not any(u.startswith(users) for u in used if users):
            yield f"{job_name}: `{scope}: {level}` is not used by any of its steps"
    for step in job.get("steps", []):
        checkout = str(step.get("uses", "")).startswith("actions/checkout@")
        if checkout and (step.get("with") or {}).get("persist-credentials") is not False:
            yield f"{job_name}: checkout without `persist-credentials: false`"
        if EXPRESSION.search(str(step.get("run", ""))):
            name = step.get("name") or step.get("uses")
            yield f"{job_name}: step {name!r} expands ${{{{ }}}} inside run:; pass it in env:"


def workflow_problems(text: str) -> list[str]:
    """Every way the workflow `text` breaks the supply-chain rules (see the module docstring)."""
    problems = list(_pin_problems(text))
    workflow = yaml.safe_load(text)
    if workflow.get("permissions") != {}:
        problems.append(f"workflow permissions are {workflow.get('permissions')!r}; grant nothing (`{{}}`)")
    for job_name, job in workflow["jobs"].items():
        problems += _job_problems(job_name, job)
    return problems


ALL = sorted(p.name for p in WORKFLOWS.glob("*.yml"))


def test_both_workflows_exist():
    assert ALL == ["deploy.yml", "pull-request.yml"]


@pytest.mark.parametrize("name", ALL)
def test_workflow_keeps_the_supply_chain_rules(name):
    assert workflow_problems((WORKFLOWS / name).read_text()) == []


GOOD = """\
permissions: {}
jobs:
  deploy:
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/checkout@0123456789abcdef0123456789abcdef01234567 # v4.4.0
        with:
          persist-credentials: false
      - uses: aws-actions/configure-aws-credentials@89abcdef0123456789abcdef0123456789abcdef # v4.3.1
      - name: Report
        env:
          CODE: ${{ steps.preview.outputs.exit-code }}
        run: echo "$CODE"
"""


def test_the_rules_accept_a_workflow_that_keeps_them():
    assert workflow_problems(GOOD) == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "checkout@0123456789abcdef0123456789abcdef01234567 # v4.4.0",
            "checkout@v4",
            "actions/checkout@v4 is not pinned to a full commit SHA",
        ),
        ("01234567 # v4.4.0", "01234567", "has no `# vX.Y.Z` comment"),
        ("permissions: {}\n", "permissions:\n  contents: read\n", "workflow permissions are"),
        (
            "          persist-credentials: false\n",
            "          fetch-depth: 0\n",
            "persist-credentials: false",
        ),
        ("      id-token: write\n", "      id-token: write\n      pull-requests: write\n", "`pull-requests"),
        (
            "    permissions:\n      contents: read\n      id-token: write\n",
            "    permissions: write-all\n",
            "deploy: permissions must be listed per job",
        ),
        ('run: echo "$CODE"', "run: echo ${{ steps.preview.outputs.exit-code }}", "inside run:"),
    ],
    ids=[
        "tag-not-sha",
        "no-version-comment",
        "workflow-wide-grant",
        "token-persisted",
        "unused-grant",
        "write-all",
        "expression-in-run",
    ],
)
def test_each_rule_fails_on_its_own_breach(old, new, message):
    assert old in GOOD
    problems = workflow_problems(GOOD.replace(old, new))
    assert len(problems) == 1 and message in problems[0], problems


def test_dependabot_keeps_the_pinned_actions_current():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    ecosystems = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert ("github-actions", "/") in ecosystems


@pytest.mark.parametrize("name", ALL)
def test_oidc_roles_come_from_variables(name):
    workflow = load(name)
    for _, job, step in steps(workflow):
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
