"""No plaintext secret material in any input: user data, tags, environment variables, descriptions, policies.

Every input is walked recursively (user data is base64-decoded first) and every string is checked for
credential formats (AWS access keys, private keys, connection strings with a password, Vault/GitHub
tokens, Slack webhooks), `password=...`-style assignments in text, values under secret-named keys
(`DB_PASSWORD`, `apiKey`, `SLACK_WEBHOOK_URL`), and long high-entropy tokens.

A Pulumi secret is fine, and how that is known differs by path:
- offline (`tools/preview`), the recording knows which inputs were secrets and hands the rules "[secret]"
  in their place, so they are never flagged;
- under the Pulumi CLI, the engine sends secrets to the policy pack and the Python policy SDK unwraps them
  before a validation sees them (`deserialize_properties(..., proxy_secrets=False)`): a rule cannot tell a
  secret from plaintext. So the inputs that providers declare secret in their schema (and the dynamic seed
  providers' `value`) are skipped by name (`secretFields`); a Pulumi secret put anywhere else (a tag, a
  description) is still reported under the CLI, which is deliberate: those fields are stored and shown in
  plaintext by AWS.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from . import settings
from .framework import CRITICAL, MANDATORY, Refs, ResourceContext, resource_policy
from .props import decode_text, has_key, known_elements, known_get, known_items, mapping, sequence, strings

CATEGORY = "secrets"
SECRET_MASK = "[secret]"  # noqa: S105 - what the offline preview hands over in place of a Pulumi secret

FORMATS = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    (
        "a connection string with a password",
        re.compile(r"[a-z][a-z0-9+.-]*://[^/:@\s'\"]+:([^@/\s'\"{}<>$]{4,})@"),
    ),
    ("a Vault token", re.compile(r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}")),
    (
        "a Slack webhook URL",
        re.compile(r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+"),
    ),
)
# `password = value` / `API_KEY: value` in free text (scripts, descriptions, JSON); references such as
# $VAR, ${VAR}, $(cmd) or {{resolve:...}} are not values.
ASSIGNMENT = re.compile(
    r"(?i)\b[\w-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)\b[\"']?\s*[:=]\s*[\"']?"
    r"(?![$\[{<])([^\s\"',;]{8,})"
)
# ARNs name secrets (`arn:aws:secretsmanager:...:secret:<name>`) without holding them.
ARN = re.compile(r"arn:aws[\w-]*:[^\s\"',]*")
# Keys whose value *is* a secret (not a name, ARN or id of one): the normalised key ends with one of these.
SECRET_KEY_ENDINGS = (
    "password",
    "passwd",
    "secret",
    "secretkey",
    "secretvalue",
    "secretstring",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "credential",
    "credentials",
    "webhookurl",
    "integrationkey",
    "routingkey",
)
REFERENCE = re.compile(r"^(?:arn:|alias/|\$|\{\{|resolve:|ssm:|secretsmanager:)")
# Public PEM blocks (certificates, requests, public keys): base64 bodies that are not secrets.
PUBLIC_PEM = re.compile(r"-----BEGIN ((?:(?!PRIVATE)[A-Z0-9 ])+)-----.*?-----END \1-----", re.S)
TOKEN = re.compile(r"[A-Za-z0-9+=_-]+")  # split at "/" too: paths and ARNs are not tokens
AWS_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
DEFAULT_SECRET_FIELDS = {
    "aws:secretsmanager/secretVersion:SecretVersion": ["secretString", "secretBinary", "secretStringWo"],
    "aws:kms/customKeyStore:CustomKeyStore": ["keyStorePassword"],
    "aws:rds/instance:Instance": ["password", "passwordWo"],
    "aws:rds/cluster:Cluster": ["masterPassword", "masterPasswordWo"],
    "aws:elasticache/replicationGroup:ReplicationGroup": ["authToken"],
    "aws:elasticache/user:User": ["passwords"],
    "aws:ssm/parameter:Parameter": ["value"],  # only when type is SecureString (see _skipped)
    # The seed providers' value and the Vault token they carry, the bootstrap's adoption token: Pulumi
    # secrets in this project's dynamic providers.
    settings.DYNAMIC_RESOURCE_PREFIX: ["value", "values", "secretValue", "token", "adopt_token"],
}


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _secret_key(name: str) -> bool:
    normalised = re.sub(r"[^a-z0-9]", "", name.lower())
    return normalised.endswith(SECRET_KEY_ENDINGS)


def findings(text: str, key: str, config: Mapping[str, Any]) -> Iterable[str]:
    """What in one string value looks like secret material (the kinds found, not the values)."""
    if text == SECRET_MASK or not text.strip():
        return
    decoded = decode_text(text)
    for kind, pattern in FORMATS:
        if pattern.search(decoded):
            yield kind
    if ASSIGNMENT.search(ARN.sub(" ", decoded)):
        yield "a password/token/key assignment"
    if _secret_key(key) and len(decoded) >= 8 and not REFERENCE.match(decoded):
        yield f"a literal value under the secret-named key {key!r}"
    length, minimum_entropy = int(config["minimumTokenLength"]), float(config["minimumEntropy"])
    plain = ARN.sub(" ", PUBLIC_PEM.sub(" ", decoded))
    if any(_mixed(key) and entropy(key) >= 4.0 for key in AWS_SECRET_KEY.findall(plain)):
        yield "an AWS secret access key"
    for token in TOKEN.findall(plain):
        if length <= len(token) <= 256 and _mixed(token) and entropy(token) >= minimum_entropy:
            yield "a high-entropy token"
            break


def _mixed(token: str) -> bool:
    """Upper and lower case letters and digits: how generated tokens look, unlike words and ids."""
    return (
        any(c.islower() for c in token)
        and any(c.isupper() for c in token)
        and any(c.isdigit() for c in token)
    )


def _skipped(path: str, props: Mapping[str, Any], context: ResourceContext) -> bool:
    by_type = mapping(context.config.get("secretFields"))
    dynamic = context.type.startswith(settings.DYNAMIC_RESOURCE_PREFIX)
    fields = strings(
        by_type.get(context.type) or (by_type.get(settings.DYNAMIC_RESOURCE_PREFIX) if dynamic else [])
    )
    top = path.split(".", maxsplit=1)[0].split("[", maxsplit=1)[0]
    if top.startswith("__"):
        return True  # engine-internal keys (the serialised dynamic provider) never reach a policy pack
    if context.type == "aws:ssm/parameter:Parameter" and top == "value":
        return str(props.get("type")) == "SecureString"
    return top in fields


def _walk(value: Any, path: str, key: str) -> Iterable[tuple[str, str, str]]:
    """(path, key name, text) of every known string inside a value."""
    if isinstance(value, str):
        yield path, key, value
    elif isinstance(value, Mapping):
        # {key: NAME, value: ...} pairs (Auto Scaling tags, ECS environment) name their value by `key`/`name`.
        pair_name = (known_get(value, "key") or known_get(value, "name")) if has_key(value, "value") else None
        for child_key, child in known_items(value):
            child_name = str(pair_name) if child_key == "value" and pair_name else child_key
            yield from _walk(child, f"{path}.{child_key}" if path else child_key, child_name)
    else:
        for index, child in known_elements(sequence(value)):
            yield from _walk(child, f"{path}[{index}]", key)


def _material(props: Mapping[str, Any], context: ResourceContext) -> Iterable[str]:
    for path, key, text in _walk(props, "", ""):
        if _skipped(path, props, context):
            continue
        kinds = sorted(set(findings(text, key, context.config)))
        if kinds:
            what = " and ".join(kinds)
            yield f"input {path} holds {what} in plaintext; pass it as a Pulumi secret from secure config"


no_plaintext_secrets = resource_policy(
    "no-plaintext-secrets",
    "No input of any resource (user data, tags, environment variables, descriptions, policies) holds "
    "plaintext secret material: AWS keys, private keys, connection strings with passwords, tokens, "
    "secret-named values, high-entropy strings. Pulumi secrets are exempt (see the module notes for how "
    "the CLI path tells).",
    types=None,
    check=_material,
    level=MANDATORY,
    severity=CRITICAL,
    refs=Refs(checkov=("CKV_AWS_41", "CKV_AWS_45", "CKV_AWS_46", "CKV_AWS_384")),
    remediation="Read the value with config.require_secret(...) or generate it with pulumi-random, and pass "
    "the Output; never write it in code or plain config.",
    category=CATEGORY,
    config={
        "secretFields": {"type": "object", "default": DEFAULT_SECRET_FIELDS},
        "minimumEntropy": {"type": "number", "default": 4.5},
        "minimumTokenLength": {"type": "integer", "default": 32},
    },
)

POLICIES = [no_plaintext_secrets]
