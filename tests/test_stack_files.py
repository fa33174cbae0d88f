"""The project and stack files agree with each other and hold no secret material."""

import re

import pytest
import yaml

from components.config.stack import parse_stack_config
from tests.support.mocks import ROOT
from tools import stackfile

PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
STACKS = sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))
YAML_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}
OBJECT_KEYS = {
    "breakGlass",
    "catalog",
    "tags",
    "teamRoles",
    "vaultApplications",
}  # Pulumi's project schema has no object type
SECURE_KEYS = {
    "slackWebhookUrl",
    "pagerdutyIntegrationKey",
    "vaultAdoptToken",
    "mongodbUri",
    "smitheryApiKey",
}


def test_project_file_declares_the_python_runtime_with_pip_and_venv():
    assert PROJECT["name"] == "candlefish-secrets"
    assert PROJECT["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert PROJECT["description"]


def test_declared_defaults_have_the_declared_type():
    for key, declaration in PROJECT["config"].items():
        assert declaration["type"] in YAML_TYPES, key
        assert declaration.get("description"), f"{key} has no description"
        if "default" in declaration:
            assert isinstance(declaration["default"], YAML_TYPES[declaration["type"]]), key


def test_stacks_set_every_required_key_with_the_declared_type():
    for stack in STACKS:
        config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        own = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("candlefish-secrets:")}
        for key, declaration in PROJECT["config"].items():
            if "default" not in declaration:
                assert key in own, f"{stack} does not set required key {key}"
            if key in own:
                assert isinstance(own[key], YAML_TYPES[declaration["type"]]), f"{stack}: {key}"
        # Keys Pulumi's schema cannot type (objects, secure values) are validated in components/config/.
        assert set(own) - set(PROJECT["config"]) - OBJECT_KEYS - SECURE_KEYS == set()


def test_every_stack_file_passes_validation():
    for stack in STACKS:
        loaded = stackfile.load(stack)
        config = parse_stack_config(loaded.values, stack=stack, secret_keys=loaded.secret_keys)
        assert config.stack == stack


def test_production_encrypts_its_secrets_with_a_kms_key():
    provider = stackfile.load("production").secrets_provider
    assert provider is not None
    assert provider.startswith("awskms://alias/")


def test_stack_files_hold_no_secret_values_or_placeholders():
    for stack in STACKS:
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
        config = yaml.safe_load(text)["config"]
        for key in SECURE_KEYS:
            value = config.get(f"candlefish-secrets:{key}")
            assert value is None or set(value) == {"secure"}, f"{stack}:{key} must be set with --secret"
        assert not re.search(r"hooks\.slack\.com|REPLACE|CHANGEME|<.*(key|url|token).*>", text, re.I), stack


def _stack_root(tmp_path, text: str):
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.broken.yaml").write_text(text)
    return tmp_path


def test_a_stack_file_that_is_not_yaml_is_named_with_its_line_and_column(tmp_path):
    # An unclosed flow sequence on line 3: the parser gives up where the next key begins.
    text = "config:\n  aws:region: us-east-1\n  candlefish-secrets:availabilityZones: [us-east-1a\n"
    text += "  candlefish-secrets:environment: dev\n"
    with pytest.raises(stackfile.StackFileError) as caught:
        stackfile.load("broken", _stack_root(tmp_path, text))
    message = str(caught.value)
    assert message.startswith("Pulumi.broken.yaml, line 4, column 33: not valid YAML ("), message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_stack_file_whose_top_level_is_not_a_mapping_is_refused(tmp_path):
    with pytest.raises(stackfile.StackFileError, match=r"Pulumi\.broken\.yaml: expected a YAML mapping"):
        stackfile.load("broken", _stack_root(tmp_path, "- just\n- a list\n"))
