"""`recovery-shares-protected` beyond its one-condition cases: what exempts a stack, what it cannot judge."""

from tests.policies.conditions_recovery_shares import PGP_KEYS, RULE, SECRET_POLICY, SHARES, shares_stack
from tests.policies.support import UNKNOWN, check_stack


def test_pgp_encrypted_shares_need_no_write_only_secret():
    # The same broken secret policy and key that are reported without keys.
    assert check_stack(RULE, shares_stack(pgp_keys=PGP_KEYS, secret_deny=False, key_deny=False)) == []
    assert check_stack(RULE, shares_stack(secret_deny=False, key_deny=False)) != []


def test_outside_production_readable_shares_are_not_reported():
    assert check_stack(RULE, shares_stack(secret_deny=False, environment="dev")) == []


def test_a_policy_unknown_at_preview_is_not_judged():
    stack = shares_stack(secret_deny=False)
    for resource in stack:
        if resource.type == SECRET_POLICY:
            resource.props["policy"] = UNKNOWN
    messages = check_stack(RULE, stack)
    assert not any("resource policy" in message for message in messages), messages


def test_a_deny_that_leaves_out_nobody_locks_the_readers_out_too():
    assert check_stack(RULE, shares_stack(secret_readers=[])) == [
        SHARES + "resource policy bootstrap-break-glass-policy denies secretsmanager:GetSecretValue to "
        "everyone, the break-glass roles included: nobody could read them"
    ]
