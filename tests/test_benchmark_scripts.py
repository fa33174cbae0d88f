"""The scripts in benchmarks/ still run: each one's arguments, and a tiny run where one is affordable.

A benchmark is run by hand, rarely, so a renamed setting or function breaks it silently (benchmarks/preview.py
once built its catalog under a config key the config had renamed). These tests run each script's own entry
point: `--help` for every one (imports and arguments), a tiny real run for the cheap ones, and, for the ones
that need clusters for minutes, what they hand the program checked without running it.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from benchmarks import preview as preview_bench
from components.config.stack import parse_stack_config
from tools import stackfile

SEED_ENVIRONMENT = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_EC2_METADATA_DISABLED",
)
SCRIPTS = sorted(p.stem for p in Path(preview_bench.__file__).parent.glob("*.py") if p.stem != "__init__")


def test_every_benchmark_script_is_covered_here():
    # A new script joins the --help test below by existing; this names the ones this file knows.
    assert SCRIPTS == [
        "dr_drill",
        "loadtest_local",
        "preview",
        "sdk",
        "seed_catalog",
    ]


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_benchmark_imports_and_answers_help(script, capsys):
    module = importlib.import_module(f"benchmarks.{script}")
    with pytest.raises(SystemExit) as exited:
        module.main(["--help"])
    assert exited.value.code == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("script", "argv", "words"),
    [
        ("preview", ["--secrets", "0"], "--repetitions and --secrets must be at least 1"),
        ("preview", ["--repetitions", "0"], "--repetitions and --secrets must be at least 1"),
        ("dr_drill", ["--json", "out.json", "--secrets", "999"], "--secrets must be at least 1000"),
        ("seed_catalog", ["--entries", "0"], "--entries must be at least 1"),
    ],
)
def test_bad_arguments_are_refused_by_name(script, argv, words, capsys):
    module = importlib.import_module(f"benchmarks.{script}")
    with pytest.raises(SystemExit) as exited:
        module.main(argv)
    assert exited.value.code == 2
    assert words in capsys.readouterr().err


def test_the_preview_benchmarks_catalog_is_a_valid_production_config():
    """The generated catalog goes through the real config validation, as the program reads it."""
    loaded = stackfile.load("production")
    values = dict(loaded.values)
    for key, value in preview_bench.catalog_overrides(3).items():
        values[key] = stackfile.encode(value)
    config = parse_stack_config(values, stack="production", secret_keys=frozenset(loaded.secret_keys))
    assert [entry.name for entry in config.catalog] == ["bench-000", "bench-001", "bench-002"]


@pytest.mark.slow
def test_a_preview_in_a_new_interpreter_measures_the_generated_catalog():
    catalog = preview_bench.measure_fresh("catalog", 2)
    assert catalog.generated_secrets == 2
    assert 0 < catalog.policies_s < catalog.total_s


def test_a_failed_preview_in_a_new_interpreter_is_reported_with_its_error(monkeypatch):
    monkeypatch.setattr(preview_bench.sys, "executable", "/bin/false")
    with pytest.raises(RuntimeError, match=r"the catalog preview failed \(exit 1\)"):
        preview_bench.measure_fresh("catalog", 2)


@pytest.mark.slow
def test_a_two_secret_preview_measures_the_generated_catalog():
    catalog = preview_bench.measure(preview_bench.catalog_overrides(2))
    assert catalog.generated_secrets == 2
    assert 0 < catalog.policies_s < catalog.total_s


def fake_measure(overrides):
    """Warm: production takes 2 s; the generated catalog 5 s and makes the secrets it was given."""
    if overrides is None:
        return preview_bench.Measurement(2.0, 0.5, 300, 0)
    return preview_bench.Measurement(5.0, 1.0, 312, len(overrides[preview_bench.CATALOG_KEY]))


def fake_measure_fresh(stack, secrets):
    """In a new interpreter the program's imports come on top: production 3 s, the catalog 6 s."""
    if stack == "production":
        return preview_bench.Measurement(3.0, 0.5, 300, 0)
    return preview_bench.Measurement(6.0, 1.0, 312, secrets)


def test_the_preview_benchmarks_json_has_the_issues_keys(monkeypatch, capsys):
    monkeypatch.setattr(preview_bench, "measure", fake_measure)
    monkeypatch.setattr(preview_bench, "measure_fresh", fake_measure_fresh)
    assert preview_bench.main(["--repetitions", "1", "--secrets", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # The issue's figures are what `make preview` prints: each run in a new interpreter.
    assert (result["production_s"], result["catalog2_s"], result["ratio"]) == (3.0, 6.0, 2.0)
    assert (result["warm_production_s"], result["warm_catalog2_s"], result["warm_ratio"]) == (2.0, 5.0, 2.5)
    # Warm, 300 resources take 2 s; the 12 the catalog adds cost the other 3 s between them.
    assert (result["production_ms_per_resource"], result["added_ms_per_resource"]) == (6.67, 250.0)


def test_a_catalog_that_adds_no_resources_has_no_per_resource_cost():
    assert preview_bench.marginal_ms(2.0, 2.1, 300, 300) is None
    assert preview_bench.marginal_ms(2.0, 2.1, 300, 301) == 100.0


def test_the_preview_benchmark_refuses_a_catalog_that_did_not_take(monkeypatch):
    monkeypatch.setattr(preview_bench, "measure", fake_measure)
    monkeypatch.setattr(preview_bench, "measure_fresh", fake_measure_fresh)
    monkeypatch.setattr(
        preview_bench, "catalog_overrides", lambda count: {preview_bench.CATALOG_KEY: {"only-one": {}}}
    )
    with pytest.raises(RuntimeError, match="produced 1 secrets, not 2"):
        preview_bench.run(1, 2)


@pytest.mark.slow
@pytest.mark.openbao
def test_the_seeding_benchmark_seeds_two_entries(capsys, monkeypatch):
    from benchmarks import seed_catalog

    # The script points boto3 at its moto server through the environment; put it back afterwards.
    for name in SEED_ENVIRONMENT:
        monkeypatch.setenv(name, "unset-by-test")
        monkeypatch.delenv(name)
    assert seed_catalog.main(["--entries", "2"]) == 0
    assert "entries      2" in capsys.readouterr().out
