"""Env files: the forms `.env` files use, and errors that name the line but never repeat its value."""

import pytest
from candlefish_secrets import ConfigurationError
from candlefish_secrets.dotenv import parse_env


def test_the_usual_forms():
    text = (
        "# a comment\n\n"
        "export A=vault://candlefish/db#password\n"
        "B = plain value  # trailing comment\n"
        'C="line\\nbreak and \\"quotes\\""\n'
        "D='single # not a comment'\n"
        "E=\n"
        "F=a#b\n"
    )
    assert parse_env(text) == {
        "A": "vault://candlefish/db#password",
        "B": "plain value",
        "C": 'line\nbreak and "quotes"',
        "D": "single # not a comment",
        "E": "",
        "F": "a#b",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("example-not-a-secret\n", ".env:1: expected NAME=value"),
        ("OK=1\n1BAD=example-not-a-secret\n", ".env:2: expected NAME=value"),
        ('A="example-not-a-secret\n', '.env:1: the " quote is not closed'),
    ],
)
def test_a_malformed_line_names_the_line_not_the_value(text, message):
    with pytest.raises(ConfigurationError) as caught:
        parse_env(text, ".env")
    assert message in str(caught.value)
    assert "example-not-a-secret" not in str(caught.value)
