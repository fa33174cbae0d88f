"""Each mandatory rule, one condition at a time: a single change to a passing resource, its own message."""

import pytest

from tests.policies import (
    conditions_exposure,
    conditions_identity,
    conditions_recovery_shares,
    conditions_resources,
    conditions_stack,
)
from tests.policies.support import Fake, check_resource, check_stack

CONDITIONS = [*conditions_resources.CONDITIONS, *conditions_exposure.EXPOSURE, *conditions_identity.IDENTITY]
STACK_CONDITIONS = [*conditions_stack.STACK_CONDITIONS, *conditions_recovery_shares.CONDITIONS]


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda c: c.id)
def test_each_condition_alone_reports_its_own_message(condition):
    assert check_resource(condition.rule, condition.type, condition.good, config=condition.config) == []
    messages = check_resource(condition.rule, condition.type, condition.props(), config=condition.config)
    assert len(messages) == len(condition.messages), messages
    for expected, message in zip(condition.messages, messages, strict=True):
        assert message.startswith(expected), message  # the message itself, not merely words inside it


@pytest.mark.parametrize("condition", STACK_CONDITIONS, ids=lambda c: c.id)
def test_each_stack_condition_alone_reports_its_own_message(condition):
    assert check_stack(condition.rule, condition.build(), config=condition.config) == []
    messages = check_stack(condition.rule, condition.build(**condition.change), config=condition.config)
    assert len(messages) == len(condition.messages), messages
    for expected, message in zip(condition.messages, messages, strict=True):
        assert message.startswith(expected), message


def test_a_secret_field_holding_a_list_is_skipped_element_by_element():
    # ElastiCache users take `passwords` as a list: `passwords[0]` is still the secret field `passwords`.
    user = "aws:elasticache/user:User"
    assert check_resource("no-plaintext-secrets", user, {"passwords": [Fake.TOKEN], "userName": "app"}) == []
    assert check_resource("no-plaintext-secrets", user, {"accessString": Fake.TOKEN, "userName": "app"}) != []


def test_an_egress_rule_without_a_description_is_named_like_an_ingress_rule():
    group = "aws:ec2/securityGroup:SecurityGroup"
    rule = {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/16"]}
    described = {**rule, "description": "HTTPS to the VPC endpoints"}
    good = {"description": "Vault nodes", "ingress": [described], "egress": [described]}
    assert check_resource("sg-rule-descriptions", group, good) == []
    assert check_resource("sg-rule-descriptions", group, {**good, "egress": [described, rule]}) == [
        "egress rule 1 has no description"
    ]
    assert check_resource("sg-rule-descriptions", group, {**good, "ingress": [rule]}) == [
        "ingress rule 0 has no description"
    ]


def test_a_database_exporting_no_logs_is_told_so():
    rds = "aws:rds/instance:Instance"
    assert check_resource("rds-log-exports", rds, {"engine": "mysql"}) == [
        "no database logs are exported to CloudWatch"
    ]
    assert (
        check_resource("rds-log-exports", rds, {"engine": "mysql", "enabledCloudwatchLogsExports": ["error"]})
        == []
    )
