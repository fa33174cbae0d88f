"""The runbooks stay true: every command in them is one this project ships (a tool whose own parser accepts
the arguments and that a test exercises, a make target, or `pulumi` with a key this project declares), and
every alarm has the section its description links to."""

from __future__ import annotations

import argparse
import dataclasses
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from components.monitoring.alarm_spec import RUNBOOK_PAGE
from components.monitoring.alarms import all_alarms
from components.monitoring.certificates import certificate_alarms
from lambdas.slack_forwarder.message import parse_description
from tests.support.mocks import ROOT
from tests.test_alarm_specs import WATCHED
from tools import loadtest, restore, restore_drill, validate

RUNBOOKS = ROOT / "docs" / "runbooks"
PAGES = sorted(RUNBOOKS.glob("*.md"))
# Each tool's own argument parser: a runbook command must parse exactly as the tool would parse it.
PARSERS: dict[str, Callable[[], argparse.ArgumentParser] | None] = {
    "tools.validate": validate.build_parser,
    "tools.loadtest": loadtest.build_parser,
    "tools.restore": restore.build_parser,
    "tools.rotate": None,  # positional name and --stack; checked below
}
PULUMI_VERBS = {("up",), ("preview",), ("config", "set"), ("stack", "output")}


def commands(page: Path) -> list[str]:
    """Every line of every ```sh block of a page."""
    blocks = re.findall(r"```sh\n(.*?)```", page.read_text(), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


ALL = [(page.name, command) for page in PAGES for command in commands(page)]


def test_there_are_runbooks_for_every_situation_the_issue_names():
    names = {page.stem for page in PAGES}
    assert {"restore", "dr-failover", "node-replacement", "rolling-upgrade", "lost-unseal-key",
            "failed-rotation", "alarms"} <= names  # fmt: skip
    assert len(ALL) > 20


def _tested(module: str) -> bool:
    """Some test file other than this one imports the module and calls into it."""
    name = module.split(".")[1]
    pattern = re.compile(
        rf"from tools import [^\n]*\b{name}\b|import tools\.{name}\b|from tools\.{name} import"
    )
    return any(
        pattern.search(path.read_text())
        for path in (ROOT / "tests").glob("test_*.py")
        if path.name != Path(__file__).name
    )


@pytest.mark.parametrize(("page", "command"), ALL, ids=[f"{p}:{c[:40]}" for p, c in ALL])
def test_every_runbook_command_is_one_the_project_ships(page, command):
    words = shlex.split(command)
    if words[:2] == ["python", "-m"]:
        module, arguments = words[2], words[3:]
        assert module in PARSERS, f"{page}: {module} is not a tool this project ships"
        assert _tested(module), f"{page}: no test exercises {module}"
        if module == "tools.rotate":
            assert arguments[0] and arguments[1:3] == ["--stack", "production"], command
        elif "--drill" in arguments:
            restore_drill_args = [a for a in arguments if a != "--drill"]
            assert restore_drill_args[:1] == ["--secrets"], command
        else:
            parser = PARSERS[module]
            assert parser is not None
            parser().parse_args(arguments)  # raises SystemExit on an unknown argument
    elif words[0] == "make":
        makefile = (ROOT / "Makefile").read_text()
        assert re.search(rf"^{words[1]}:", makefile, re.M), f"{page}: no make target {words[1]}"
    elif words[0] == "pulumi":
        assert tuple(words[1:2]) in PULUMI_VERBS or tuple(words[1:3]) in PULUMI_VERBS, command
        if words[1:3] == ["config", "set"]:
            declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
            assert words[3] in declared, f"{page}: {words[3]} is not a config key of this project"
        assert "--stack" in words, f"{page}: name the stack explicitly: {command}"
    else:
        pytest.fail(f"{page}: `{command}` is not a command this project ships")


def test_the_drill_command_parses_as_the_drill_parses_it(monkeypatch):
    seen: dict[str, int] = {}

    def drill(launch, secrets):
        seen["secrets"] = secrets
        return restore_drill.DrillReport(secrets, secrets, secrets, 1.0, 2.0)

    monkeypatch.setattr(restore_drill, "run_drill", drill)
    monkeypatch.setattr(restore_drill, "local_launcher", lambda nodes: None)
    assert restore.main(["--drill", "--secrets", "1000"]) == restore.EXIT_OK
    assert seen == {"secrets": 1000}


@pytest.mark.parametrize(
    "spec",
    [*all_alarms(WATCHED), *certificate_alarms("arn:example:acm", "arn:example:acm-node")],
    ids=lambda spec: spec.key,
)
def test_every_alarm_links_a_section_that_exists(spec):
    page, _, anchor = spec.runbook.partition("#")
    assert page == RUNBOOK_PAGE and anchor == spec.key
    headings = re.findall(r"^## (\S+)$", (ROOT / page).read_text(), re.M)
    assert anchor in headings, f"{page} has no section {anchor}"


def test_relative_links_between_runbooks_resolve():
    for page in PAGES:
        for target in re.findall(r"\]\(([a-z-]+\.md)(?:#[a-z0-9-]+)?\)", page.read_text()):
            assert (RUNBOOKS / target).exists(), f"{page.name} links {target}"


def test_the_snapshot_alarm_fires_when_no_snapshot_succeeded_for_two_hours():
    (spec,) = [spec for spec in all_alarms(WATCHED) if spec.key == "snapshot-stale"]
    assert spec.page and spec.metrics[0].name == "RaftSnapshotSucceeded"
    assert spec.metrics[0].dimensions == {"vault_cluster": WATCHED.cluster_name}
    assert (spec.period * spec.evaluation_periods, spec.comparison, spec.threshold) == (
        7200,
        "LessThanThreshold",
        1,
    )
    assert spec.treat_missing_data == "breaching"  # no datapoint at all is the failure it exists for


def test_a_cluster_that_takes_no_snapshots_has_no_snapshot_alarm():
    no_snapshots = dataclasses.replace(WATCHED, vault=dataclasses.replace(WATCHED.vault, snapshots=False))
    assert "snapshot-stale" not in {spec.key for spec in all_alarms(no_snapshots)}


def test_slack_shows_the_runbook_of_an_alarm():
    (spec,) = [spec for spec in all_alarms(WATCHED) if spec.key == "snapshot-stale"]
    described = parse_description(spec.description)
    assert described.runbook == "docs/runbooks/alarms.md#snapshot-stale"
    assert described.first_step == spec.first_step


def test_the_slack_message_carries_the_runbook_as_a_field():
    from lambdas.slack_forwarder.message import AlarmNotice, slack_payload

    (spec,) = [spec for spec in all_alarms(WATCHED) if spec.key == "snapshot-stale"]
    notice = AlarmNotice("a", "ALARM", "OK", "r", parse_description(spec.description), "t", "us-east-1")
    fields = [f["text"] for block in slack_payload(notice)["blocks"] for f in block.get("fields", [])]
    assert "*Runbook*\ndocs/runbooks/alarms.md#snapshot-stale" in fields
