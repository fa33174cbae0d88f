"""The committed-secrets scan passes on the repository and fails on credential-looking strings."""

import pytest

from tools import scan_secrets

# Built at run time so that this file itself holds no credential-looking literal.
LEAKS = {
    "aws_access_key.py": 'key = "AKIA' + "QYLPMN5HHHFPZAM2" + '"\n',
    "private_key.pem": "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIE\n",
    "webhook.yaml": "url: https://hooks.slack.com/services/" + "T0AAAAAAA/B0BBBBBBB/" + "c" * 24 + "\n",
    "database_url.env": "DATABASE_URL=postgres://vault_admin:" + "s3cr3tPassw0rd" + "@db.internal:5432/app\n",
    "vault_token.txt": "VAULT_TOKEN=hvs." + "CAESIJ3x" * 4 + "\n",
    "pagerduty.yaml": "pagerdutyIntegrationKey: " + "0123456789abcdef" * 2 + "\n",
}


def test_the_repository_has_no_credential_looking_strings():
    assert scan_secrets.scan(scan_secrets.repository_files()) == []


@pytest.mark.parametrize("filename", sorted(LEAKS))
def test_each_kind_of_credential_is_caught(tmp_path, filename, capsys):
    (tmp_path / filename).write_text(LEAKS[filename])
    assert scan_secrets.main([str(tmp_path)]) == 1
    assert filename in capsys.readouterr().err


def test_obviously_fake_samples_pass(tmp_path):
    (tmp_path / "sample.yaml").write_text("apiKey: example-not-a-secret\nurl: https://example.com/webhook\n")
    assert scan_secrets.main([str(tmp_path)]) == 0
