"""One naming scheme: AWS names come from `Names`/`AwsContext` (components/deployment.py), nowhere else.

The source check reads every module under components/ and flags an f-string that starts like an AWS name
of this project or a name AWS fixes (`candlefish-...`, `/candlefish/...`, `alias/...`, `/aws/...`,
`com.amazonaws....`). The recording checks show that the names built by `Names` are the ones deployed.
"""

from __future__ import annotations

import ast

import pytest

from components.deployment import AwsContext, Names
from tests.support.mocks import ROOT, Recording

NAME_STARTS = ("candlefish-", "candlefish/", "/candlefish/", "alias/", "/aws/", "com.amazonaws.")
NAMING_MODULE = ROOT / "components" / "deployment.py"
# f-strings that start like a name but are not AWS names, each with why.
NOT_AWS_NAMES = {
    ("components/config/catalog.py", "candlefish/"): "the default Vault KV path of a catalog entry",
}


def assembled_names(source: str) -> list[tuple[int, str]]:
    """(line, opening text) of each f-string in `source` that begins like an AWS name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.JoinedStr) or not node.values:
            continue
        first = node.values[0]
        if isinstance(first, ast.Constant) and str(first.value).startswith(NAME_STARTS):
            found.append((node.lineno, str(first.value)))
    return found


def test_the_check_finds_a_name_assembled_by_hand() -> None:
    bad = 'name = f"candlefish-{environment}-bg-{person}"\nlog = f"/aws/lambda/{function}"\n'
    assert assembled_names(bad) == [(1, "candlefish-"), (2, "/aws/lambda/")]
    assert assembled_names('label = f"{name}-requests"\n') == []


def test_no_component_module_assembles_an_aws_name_outside_names() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in sorted((ROOT / "components").rglob("*.py"))
        if path != NAMING_MODULE
        for line, text in assembled_names(path.read_text())
        if (str(path.relative_to(ROOT)), text) not in NOT_AWS_NAMES
    ]
    assert offenders == [], "build these names with components.deployment.Names"


def test_names_of_break_glass_firehose_queues_and_endpoints() -> None:
    names = Names("production")
    assert names.break_glass_person_prefix == "candlefish-production-bg-"
    assert names.break_glass_person_role("priya") == "candlefish-production-bg-priya"
    assert Names.firehose_log_group("candlefish-production-vault-audit") == (
        "/aws/kinesisfirehose/candlefish-production-vault-audit"
    )
    assert Names.dead_letter_queue("candlefish-production-rotation") == "candlefish-production-rotation-dlq"
    context = AwsContext(account_id="123456789012", partition="aws", region="eu-west-1")
    assert context.service_name("dynamodb") == "com.amazonaws.eu-west-1.dynamodb"


@pytest.mark.slow
def test_the_deployed_names_are_the_ones_names_builds(production: Recording) -> None:
    names = Names("production")
    broker = production.one("aws:lambda/function:Function", "break-glass-broker")
    assert broker.inputs["name"] == names.resource("break-glass-broker")
    assert broker.inputs["environment"]["variables"]["ROLE_PREFIX"] == names.break_glass_person_prefix
    errors = production.one("aws:cloudwatch/logGroup:LogGroup", "audit-delivery-errors")
    assert errors.inputs["name"] == Names.firehose_log_group(names.resource("vault-audit"))
    queues = {q.inputs["name"] for q in production.of_type("aws:sqs/queue:Queue")}
    assert Names.dead_letter_queue(names.resource("break-glass-broker")) in queues
    endpoints = {e.inputs["serviceName"] for e in production.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert {"com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.dynamodb"} <= endpoints
    bucket = production.one("aws:s3/bucket:Bucket", "storage-audit")
    assert bucket.inputs["bucket"].startswith(names.resource("audit-"))
