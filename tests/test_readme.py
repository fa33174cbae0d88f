"""README stays true: every config key is documented, and the commands it gives exist."""

import re

import yaml

from tests.support.mocks import ROOT

README = (ROOT / "README.md").read_text()
KEY_TABLE = README[README.index("## Configuration keys") : README.index("## Policies")]


def documented_keys() -> set[str]:
    keys = set()
    for line in KEY_TABLE.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            keys |= {key.split(".")[0] for key in re.findall(r"`([A-Za-z:][\w:.<>-]*)`", first_cell)}
    return keys


def test_every_declared_config_key_is_in_the_readme_table():
    declared = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])
    assert declared - documented_keys() == set()


def test_every_key_the_stacks_set_is_in_the_readme_table():
    for path in ROOT.glob("Pulumi.*.yaml"):
        config = yaml.safe_load(path.read_text())["config"]
        keys = {key.split(":", 1)[1] for key in config if key.startswith("candlefish-secrets:")}
        assert keys - documented_keys() == set(), path.name


def test_the_make_targets_the_readme_names_exist():
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"`make ([a-z-]+)", README)):
        assert re.search(rf"^{target}:", makefile, re.M), target
