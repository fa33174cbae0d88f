"""Extra detect-secrets plugins for credentials this project handles that the stock plugins miss."""

import re

from detect_secrets.plugins.base import RegexBasedDetector


class VaultTokenDetector(RegexBasedDetector):
    """HashiCorp Vault service, batch and recovery tokens (hvs., hvb., hvr.) and legacy s. tokens."""

    secret_type = "HashiCorp Vault token"  # noqa: S105 - a label, not a secret
    denylist = (
        re.compile(r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}"),
        re.compile(r"\bs\.[A-Za-z0-9]{24}\b"),
    )


class PagerDutyKeyDetector(RegexBasedDetector):
    """A 32-character PagerDuty integration/routing key assigned to a PagerDuty-named setting."""

    secret_type = "PagerDuty integration key"  # noqa: S105 - a label, not a secret
    denylist = (re.compile(r"(?i)(?:pagerduty|routing|integration)[\w-]*key\W{1,4}([a-z0-9]{32})\b"),)


class CredentialUrlDetector(RegexBasedDetector):
    """A connection string or URL that carries a user name and password before its host."""

    secret_type = "Credentials in URL"  # noqa: S105 - a label, not a secret
    denylist = (
        re.compile(r"[a-z][a-z0-9+.-]*://[^/:@\s'\"]+:([^@/\s'\"{}<>$]{8,})@"),
    )  # pragma: allowlist secret  # pragma: allowlist secret
