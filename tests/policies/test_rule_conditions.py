"""Each mandatory rule, one condition at a time: a single change to a passing resource, its own message."""

import pytest

from tests.policies import conditions_resources
from tests.policies.support import check_resource

CONDITIONS = [*conditions_resources.CONDITIONS]


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda c: c.id)
def test_each_condition_alone_reports_its_own_message(condition):
    assert check_resource(condition.rule, condition.type, condition.good, config=condition.config) == []
    messages = check_resource(condition.rule, condition.type, condition.props(), config=condition.config)
    if condition.message is None:
        assert messages == []
    else:
        assert len(messages) == 1, messages
        assert condition.message in messages[0]
