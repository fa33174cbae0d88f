"""The `candlefish-secrets` command, run as the installed console script against OpenBao and moto."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from candlefish_secrets import cli

from tests.support import rotation_driver

# The fixtures the Lambda logs in to: real OpenBao behind the proxy (with its AWS auth stand-in).
from tests.test_rotation import INITIAL, VAULT_PATH, vault, vault_server  # noqa: F401
from tests.test_rotation import rotate as start_rotation

pytestmark = [pytest.mark.openbao, pytest.mark.slow]
CLI = Path(sys.executable).parent / "candlefish-secrets"
VALUE = "example-not-a-secret-cli"


@pytest.fixture
def env(openbao_dev, openbao_client, kv_path, tmp_path):
    """The environment a user would have: Vault address and token, no other configuration."""
    openbao_client.secrets.kv.v2.create_or_update_secret(
        path=kv_path, mount_point="secret", secret={"value": VALUE}
    )
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "VAULT_ADDR": openbao_dev.addr,
        "VAULT_TOKEN": openbao_dev.root_token,
    }


def run(*args, env, timeout=60):
    return subprocess.run(
        [str(CLI), *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_get_prints_the_value_and_json_says_where_it_came_from(env, kv_path):
    plain = run("get", f"vault://{kv_path}", env=env)
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, VALUE + "\n", "")
    machine = run("--json", "get", f"vault://{kv_path}", env=env)
    assert json.loads(machine.stdout) | {"age_s": 0} == {
        "value": VALUE,
        "reference": f"vault://{kv_path}",
        "backend": "vault",
        "version": 1,
        "age_s": 0,
    }


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["get", "vault://{path}/absent"], cli.EXIT_NOT_FOUND, "vault://{path}/absent: not found"),
        (
            ["get", "vault://{path}?version=x"],
            cli.EXIT_USAGE,
            "'vault://{path}?version=x': version 'x' is not a positive whole number",
        ),
        (
            ["get", "plain"],
            cli.EXIT_USAGE,
            "a plain value (5 characters) is not a reference: expected vault://<path>[#field][?version=N] or "
            "aws-sm://<name-or-arn>[#field][?stage=LABEL|version=ID]",
        ),
    ],
)
def test_failures_exit_with_their_documented_code_and_a_message_on_stderr(env, kv_path, args, code, message):
    args = [arg.format(path=kv_path) for arg in args]
    result = run(*args, env=env)
    assert result.returncode == code
    assert result.stdout == ""
    assert result.stderr == f"candlefish-secrets: error: {message.format(path=kv_path)}\n"
    as_json = json.loads(run("--json", *args, env=env).stderr)
    assert as_json["error"] == message.format(path=kv_path)


def test_an_unreachable_vault_is_exit_6_and_a_denied_read_exit_5(env, openbao_client, kv_path):
    down = run("get", f"vault://{kv_path}", env=env | {"VAULT_ADDR": f"http://127.0.0.1:{closed_port()}"})
    assert down.returncode == cli.EXIT_UNAVAILABLE
    assert "Vault unreachable" in down.stderr
    token = openbao_client.auth.token.create(policies=["default"], ttl="10m")["auth"]["client_token"]
    denied = run("--json", "get", f"vault://{kv_path}", env=env | {"VAULT_TOKEN": token})
    assert denied.returncode == cli.EXIT_ACCESS_DENIED
    assert json.loads(denied.stderr)["type"] == "AccessDenied"


def test_missing_credentials_are_a_usage_error_naming_the_variables(env, kv_path):
    result = run("get", f"vault://{kv_path}", env={k: v for k, v in env.items() if k != "VAULT_TOKEN"})
    assert result.returncode == cli.EXIT_USAGE
    assert "no Vault credentials: set VAULT_TOKEN, or VAULT_ROLE_ID" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_masks_resolved_values_unless_revealed(env, kv_path, tmp_path):
    file = tmp_path / ".env.production"
    file.write_text(f'# comment\nexport DB=vault://{kv_path}\nPORT=8080\nNAME="two words"  \n')
    masked = run("env", "--file", str(file), env=env)
    assert masked.stdout == "DB=***\nPORT=8080\nNAME=two words\n"
    revealed = run("env", "--file", str(file), "--reveal", env=env)
    assert revealed.stdout == f"DB={VALUE}\nPORT=8080\nNAME=two words\n"
    machine = json.loads(run("--json", "env", "--file", str(file), env=env).stdout)
    assert machine["DB"] == {"value": "***", "reference": f"vault://{kv_path}"}
    missing = run("env", "--file", str(tmp_path / "absent"), env=env)
    assert missing.returncode == cli.EXIT_USAGE
    assert "cannot read it" in missing.stderr


PROBE = (
    "import os, sys; print(os.getpid(), os.environ['DB'], os.environ['FROM_PARENT']); sys.stdout.flush(); "
    "sys.exit(int(os.environ.get('CODE', '0')))"
)


def test_run_execs_into_the_command_with_references_resolved(env, kv_path, tmp_path):
    file = tmp_path / ".env.production"
    file.write_text(f"DB=vault://{kv_path}\nCODE=3\n")
    process = subprocess.Popen(
        [str(CLI), "run", "--env-file", str(file), "--", sys.executable, "-c", PROBE],
        env=env | {"FROM_PARENT": f"vault://{kv_path}#value"},
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = process.communicate(timeout=60)
    pid, db, from_parent = out.split()
    assert int(pid) == process.pid  # exec: the command is this very process
    assert (db, from_parent) == (VALUE, VALUE)
    assert process.returncode == 3


def test_run_supervised_passes_the_exit_code(env, kv_path, tmp_path):
    file = tmp_path / ".env"
    file.write_text(f"DB=vault://{kv_path}\nCODE=7\nFROM_PARENT=x\n")
    result = run("run", "--supervise", "--env-file", str(file), "--", sys.executable, "-c", PROBE, env=env)
    _pid, db, _ = result.stdout.split()
    assert db == VALUE
    assert result.returncode == 7


SLEEPER = (
    "import os, signal, sys, time\n"
    "def on_usr1(*_):\n"
    "    os.write(1, b'got SIGUSR1\\n'); sys.exit(42)\n"
    "signal.signal(signal.SIGUSR1, on_usr1)\n"
    "print('ready', flush=True)\n"
    "time.sleep(30)\n"
)


def start_supervised(env, kv_path):
    process = subprocess.Popen(
        [str(CLI), "run", "--supervise", "--", sys.executable, "-c", SLEEPER],
        env=env | {"DB": f"vault://{kv_path}"},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    return process


def test_run_supervised_forwards_signals_and_exits_as_the_command_did(env, kv_path):
    handled = start_supervised(env, kv_path)
    handled.send_signal(signal.SIGUSR1)
    assert handled.stdout.readline() == "got SIGUSR1\n"
    assert handled.wait(30) == 42
    killed = start_supervised(env, kv_path)
    killed.send_signal(signal.SIGTERM)
    assert killed.wait(30) == 128 + signal.SIGTERM


@pytest.mark.parametrize(
    ("command", "code"),
    [(["/nonexistent/cmd"], cli.EXIT_COMMAND_NOT_FOUND), (["/etc/hostname"], cli.EXIT_CANNOT_EXECUTE)],
)
@pytest.mark.parametrize("mode", [[], ["--supervise"]])
def test_run_reports_a_command_it_cannot_start(env, command, code, mode):
    result = run("run", *mode, "--", *command, env=env)
    assert result.returncode == code
    assert command[0] in result.stderr


def test_run_without_a_command_is_a_usage_error(env):
    result = run("run", "--", env=env)
    assert (result.returncode, result.stderr) == (
        cli.EXIT_USAGE,
        "candlefish-secrets: error: run needs a command after --\n",
    )


def test_status_reports_identity_reachability_ttl_and_cache(env, openbao_client):
    token = openbao_client.auth.token.create(policies=["default"], ttl="10m", display_name="ci")["auth"][
        "client_token"
    ]
    result = run("--json", "status", env=env | {"VAULT_TOKEN": token})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["vault"]["reachable"] is True
    assert report["vault"]["sealed"] is False
    assert report["vault"]["token"]["auth_method"] == "token"
    assert report["vault"]["token"]["display_name"] == "token-ci"
    assert 500 < report["vault"]["token"]["ttl_s"] <= 600
    assert report["cache"]["entries"] == 0
    human = run("status", env=env)
    assert "identity: token token policies=root never expires renewable=False" in human.stdout
    down = run("status", env=env | {"VAULT_ADDR": f"http://127.0.0.1:{closed_port()}"})
    assert down.returncode == cli.EXIT_UNAVAILABLE
    assert "UNREACHABLE" in down.stdout


class TestRotate:
    """`candlefish-secrets rotate`, in process so the rotation function can run behind moto."""

    def catalog_secret(self, monkeypatch):
        rotation_driver.install(monkeypatch)
        client = boto3.client("secretsmanager")
        tags = [{"Key": "Source", "Value": "generate"}, {"Key": "VaultPath", "Value": VAULT_PATH}]
        arn = client.create_secret(Name="candlefish/production/jwt-secret", SecretString=INITIAL, Tags=tags)[
            "ARN"
        ]
        start_rotation(client, arn, rotation_driver.rotation_function_arn())
        return client, arn

    @pytest.mark.usefixtures("aws", "vault")
    def test_rotates_and_waits_until_vault_agrees(self, vault_server, monkeypatch, capsys):  # noqa: F811
        client, arn = self.catalog_secret(monkeypatch)
        before = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["VersionId"]
        monkeypatch.setenv("VAULT_TOKEN", vault_server.root_token)
        assert cli.main(["rotate", "jwt-secret", "--environment", "production", "--timeout", "5"]) == 0
        after = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["VersionId"]
        assert after != before
        assert f"version {after} is AWSCURRENT in Secrets Manager and Vault" in capsys.readouterr().out

    @pytest.mark.usefixtures("aws")
    def test_fails_when_vault_never_agrees(self, vault_server, vault, monkeypatch, capsys):  # noqa: F811
        self.catalog_secret(monkeypatch)
        elsewhere = f"elsewhere-{vault_server.prefix}"  # the session's server is shared: a mount of its own
        vault.sys.enable_secrets_engine("kv", path=elsewhere, options={"version": "2"})
        vault.secrets.kv.v2.create_or_update_secret(
            path=VAULT_PATH, mount_point=elsewhere, secret={"value": INITIAL}
        )
        monkeypatch.setenv("VAULT_TOKEN", vault_server.root_token)
        monkeypatch.setenv("CANDLEFISH_KV_MOUNT", elsewhere)  # a Vault that never sees the new value
        code = cli.main(["rotate", "candlefish/production/jwt-secret", "--timeout", "0.1"])
        assert code == cli.EXIT_FAILED
        assert "Vault still differs from AWSCURRENT version" in capsys.readouterr().err

    def test_needs_an_environment_for_a_bare_name(self, monkeypatch, capsys):
        monkeypatch.delenv("CANDLEFISH_ENVIRONMENT", raising=False)
        assert cli.main(["rotate", "jwt-secret"]) == cli.EXIT_USAGE
        assert (
            "give --environment (or CANDLEFISH_ENVIRONMENT) or the full secret name"
            in capsys.readouterr().err
        )
