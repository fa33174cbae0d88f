"""Reference parsing: every form the issue names, and a clear error naming each malformed one."""

import pytest
from candlefish_secrets import InvalidReference, references
from candlefish_secrets.references import Reference

VERSION_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:candlefish/production/jwt-secret-AbCdEf"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vault://candlefish/mongodb/connection", Reference("vault", "candlefish/mongodb/connection")),
        ("vault://candlefish/db#password", Reference("vault", "candlefish/db", field="password")),
        ("vault://candlefish/db?version=3", Reference("vault", "candlefish/db", version=3)),
        (
            "vault://candlefish/db#user?version=12",
            Reference("vault", "candlefish/db", field="user", version=12),
        ),
        (
            "vault://candlefish/db?version=12#user",
            Reference("vault", "candlefish/db", field="user", version=12),
        ),
        ("vault:///candlefish/db/", Reference("vault", "candlefish/db")),
        (
            "aws-sm://candlefish/production/jwt-secret",
            Reference("aws-sm", "candlefish/production/jwt-secret"),
        ),
        ("aws-sm://app/db#password", Reference("aws-sm", "app/db", field="password")),
        ("aws-sm://app/db?stage=AWSPREVIOUS", Reference("aws-sm", "app/db", stage="AWSPREVIOUS")),
        (f"aws-sm://app/db?version={VERSION_ID}", Reference("aws-sm", "app/db", version_id=VERSION_ID)),
        (f"aws-sm://{ARN}#key", Reference("aws-sm", ARN, field="key")),
    ],
)
def test_each_reference_form_parses(text, expected):
    parsed = references.parse(text)
    assert parsed is not None
    assert (parsed.scheme, parsed.path, parsed.field, parsed.version, parsed.stage, parsed.version_id) == (
        expected.scheme,
        expected.path,
        expected.field,
        expected.version,
        expected.stage,
        expected.version_id,
    )
    assert parsed.text == text


@pytest.mark.parametrize(
    "text", ["postgres://user@host/db", "plain-value", "", "VAULT://upper/case", "vault:/one-slash", "s3://x"]
)
def test_anything_else_is_a_plain_value(text):
    assert references.parse(text) is None
    assert not references.is_reference(text)


def test_pinned_references_are_those_naming_one_version():
    assert references.require("vault://a/b?version=2").pinned
    assert references.require(f"aws-sm://a?version={VERSION_ID}").pinned
    assert not references.require("aws-sm://a?stage=AWSPREVIOUS").pinned
    assert not references.require("vault://a/b").pinned


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vault://", "'' is not a KV path"),
        ("vault://a//b", "'a//b' is not a KV path"),
        ("vault://a/../b", "'a/../b' is not a KV path"),
        ("vault://a b", "'a b' is not a KV path"),
        ("vault://a/b?version=0", "version '0' is not a positive whole number"),
        ("vault://a/b?version=x", "version 'x' is not a positive whole number"),
        ("vault://a/b?stage=AWSCURRENT", "unknown query parameter 'stage'; allowed: version"),
        ("vault://a/b?version=1&version=2", "query parameter 'version' is given twice"),
        ("vault://a/b?version", "is not key=value pairs"),
        ("vault://a/b#", "the #field is empty"),
        ("vault://a/b?version=1#", "the #field is empty"),
        ("vault://a/b#x?version=1#y", "give one #field, not two"),
        ("aws-sm://", "'' is not a Secrets Manager name or ARN"),
        ("aws-sm://bad name", "'bad name' is not a Secrets Manager name or ARN"),
        ("aws-sm://a?stage=AWSPREVIOUS&version=" + VERSION_ID, "either ?stage= or ?version=, not both"),
        ("aws-sm://a?stage=bad label", "stage 'bad label' is not a staging label"),
        ("aws-sm://a?version=v1", "version 'v1' is not a Secrets Manager version id"),
        ("aws-sm://a?field=x", "unknown query parameter 'field'; allowed: stage, version"),
    ],
)
def test_a_malformed_reference_is_an_error_naming_it(text, message):
    with pytest.raises(InvalidReference) as caught:
        references.parse(text)
    assert message in str(caught.value)
    assert repr(text) in str(caught.value)


def test_require_refuses_a_plain_value_without_repeating_it():
    with pytest.raises(
        InvalidReference, match=r"a plain value \(20 characters\) is not a reference"
    ) as caught:
        references.require("example-not-a-secret")
    assert "example-not-a-secret" not in str(caught.value)
