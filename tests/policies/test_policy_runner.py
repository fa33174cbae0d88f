"""tools/policy_runner.py on small plans, one behaviour at a time: what the engine would send each rule,
which level a finding gets, what the CLI refuses in a pack config, and how a report is ordered."""

import json
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as SENTINEL

from policies.rules import ALL_POLICIES
from policies.rules.framework import TypedResourcePolicy
from tools.plan import UNKNOWN, Plan, PlannedResource
from tools.policy_runner import (
    Finding,
    PolicyConfigError,
    PolicyReport,
    check_config,
    effective_level,
    engine_value,
    load_config,
    run_policies,
)

KMS = "aws:kms/key:Key"
POLICIES = {p.name: p for p in ALL_POLICIES}


def resource(name, type_=KMS, inputs=None, *, custom=True, parent=None, deps=None):
    return PlannedResource(
        type=type_,
        name=name,
        urn=f"urn:pulumi:test::candlefish-secrets::{type_}::{name}",
        parent=parent,
        id=f"{name}-id",
        custom=custom,
        inputs=dict(inputs or {}),
        outputs={},
        property_dependencies=dict(deps or {}),
    )


def plan(*resources):
    return Plan(stack="test", resources=tuple(resources), outputs={}, warnings=())


def run(resources, rules, config=None):
    return run_policies(plan(*resources), config, [POLICIES[name] for name in rules])


ROTATING = {"enableKeyRotation": True}
NOT_ROTATING = {"enableKeyRotation": False}


# --- what the rules are sent ---------------------------------------------------------------------------


def test_unknown_values_reach_rules_as_the_engines_sentinel_and_internal_keys_do_not_reach_them():
    sent = engine_value({"a": UNKNOWN, "__defaults": ["x"], "b": [{"__meta": 1, "c": UNKNOWN}], "d": 3})
    assert sent == {
        "a": SENTINEL,
        "b": [{"c": SENTINEL}],
        "d": 3,
    }


def test_a_rule_reading_an_unknown_value_gets_an_advisory_cant_run_note_not_a_violation():
    key = resource("key", inputs={"enableKeyRotation": UNKNOWN})
    report = run([key], ["kms-key-rotation"])
    assert len(report.findings) == 1
    finding = report.findings[0]
    assert (finding.policy, finding.level, finding.preview_only) == ("kms-key-rotation", "advisory", True)
    assert (finding.urn, finding.resource) == (key.urn, f"key ({KMS})")
    assert finding.message.startswith(
        "can't run policy 'kms-key-rotation' from policy pack 'candlefish-secrets' during preview:"
    )
    assert report.violated_policies() == set()


def test_every_resource_rule_sees_every_resource_and_counts_only_custom_ones():
    component = resource("platform", "candlefish:secrets:Keys", custom=False)
    report = run(
        [component, resource("good", inputs=ROTATING), resource("bad", inputs=NOT_ROTATING)],
        ["kms-key-rotation"],
    )
    assert (report.policies, report.resources) == (1, 2)
    assert [(f.policy, f.level, f.resource) for f in report.findings] == [
        ("kms-key-rotation", "mandatory", f"bad ({KMS})")
    ]
    assert report.violated_policies("mandatory") == {"kms-key-rotation"}
    assert report.violated_policies("advisory") == set()


def test_stack_rules_see_inputs_and_the_resources_each_input_came_from():
    vpc = resource("vpc", "aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"})
    flow_log = resource("flow", "aws:ec2/flowLog:FlowLog", {"trafficType": "ALL"}, deps={"vpcId": [vpc.urn]})
    assert run([vpc, flow_log], ["vpc-flow-logs"]).findings == []
    unlinked = resource("flow", "aws:ec2/flowLog:FlowLog", {"trafficType": "ALL"})
    findings = run([vpc, unlinked], ["vpc-flow-logs"]).findings
    assert [(f.message, f.urn) for f in findings] == [("VPC vpc (aws:ec2/vpc:Vpc) has no flow log", vpc.urn)]


# --- levels ----------------------------------------------------------------------------------------------


def test_the_rules_own_entry_wins_over_all_which_wins_over_the_rules_default():
    policy = POLICIES["kms-key-rotation"]  # mandatory by default
    assert effective_level(policy, {}).value == "mandatory"
    assert effective_level(policy, {"all": "advisory"}).value == "advisory"
    assert effective_level(policy, {"all": "advisory", "kms-key-rotation": "mandatory"}).value == "mandatory"
    assert effective_level(policy, {"kms-key-rotation": {"enforcementLevel": "disabled"}}).value == "disabled"
    assert effective_level(policy, {"kms-key-rotation": {"maximumRotationDays": 90}}).value == "mandatory"


def test_a_disabled_rule_does_not_run_and_an_advisory_one_reports_as_advisory():
    bad = [resource("bad", inputs=NOT_ROTATING)]
    assert run(bad, ["kms-key-rotation"], {"kms-key-rotation": "disabled"}).findings == []
    advisory = run(bad, ["kms-key-rotation"], {"all": "advisory"}).findings
    assert [(f.level, f.preview_only) for f in advisory] == [("advisory", False)]


def test_a_rules_settings_reach_it_without_the_enforcement_level():
    key = resource("key", inputs={"enableKeyRotation": True, "rotationPeriodInDays": 180})
    assert run([key], ["kms-key-rotation"]).findings == []
    config = {"kms-key-rotation": {"enforcementLevel": "advisory", "maximumRotationDays": 90}}
    findings = run([key], ["kms-key-rotation"], config).findings
    assert [(f.level, f.message) for f in findings] == [
        ("advisory", "key rotates every 180 days; at most every 90")
    ]


# --- the pack config -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"kms-key-rotaton": "advisory"}, "kms-key-rotaton: no such rule in the pack"),
        ({"kms-key-rotation": "sometimes"}, "kms-key-rotation: unknown enforcement level in 'sometimes'"),
        ({"all": "loud"}, "all: unknown enforcement level in 'loud'"),
        (
            {"kms-key-rotation": {"enforcementLevel": "loud"}},
            "kms-key-rotation: unknown enforcement level in {'enforcementLevel': 'loud'}",
        ),
        (
            {"kms-key-rotation": {"maximumDays": 90}},
            "kms-key-rotation.maximumDays: not a setting of this rule (environment, maximumRotationDays, "
            "productionEnvironments)",
        ),
        (
            {"kms-key-rotation": {"maximumRotationDays": "90"}},
            "kms-key-rotation.maximumRotationDays: expected integer, got '90'",
        ),
        (
            {"kms-key-rotation": {"maximumRotationDays": True}},
            "kms-key-rotation.maximumRotationDays: expected integer, got True",
        ),
        (
            {"kms-key-rotation": {"productionEnvironments": "production"}},
            "kms-key-rotation.productionEnvironments: expected array, got 'production'",
        ),
    ],
)
def test_each_config_mistake_is_refused_on_its_own_with_its_reason(config, problem):
    with pytest.raises(PolicyConfigError) as refused:
        check_config(config, ALL_POLICIES)
    assert str(refused.value) == f"policy pack config: {problem}"


def test_well_typed_settings_and_levels_are_accepted():
    check_config(
        {
            "all": "advisory",
            "kms-key-rotation": {"enforcementLevel": "mandatory", "maximumRotationDays": 90},
            "security-log-retention": {"securityLogPattern": "audit"},
            "kms-deletion-window": "disabled",
        },
        ALL_POLICIES,
    )


def test_a_bad_setting_listed_after_the_enforcement_level_is_still_refused():
    # The level is the one key every rule accepts besides its schema; skipping it must not end the check.
    with pytest.raises(PolicyConfigError) as refused:
        check_config({"kms-key-rotation": {"enforcementLevel": "mandatory", "maximumDays": 90}}, ALL_POLICIES)
    assert str(refused.value) == (
        "policy pack config: kms-key-rotation.maximumDays: not a setting of this rule "
        "(environment, maximumRotationDays, productionEnvironments)"
    )


def test_every_mistake_is_reported_together():
    with pytest.raises(PolicyConfigError) as refused:
        check_config({"nope": "advisory", "kms-key-rotation": "loud"}, ALL_POLICIES)
    assert str(refused.value).count(";") == 1


def test_a_config_file_must_hold_an_object(tmp_path):
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(["kms-key-rotation"]))
    with pytest.raises(PolicyConfigError, match="a policy pack config is a JSON object"):
        load_config(path)
    path.write_text(json.dumps({"all": "advisory"}))
    assert load_config(path) == {"all": "advisory"}
    assert load_config(None) == {}


# --- the report -----------------------------------------------------------------------------------------


def test_findings_are_ordered_mandatory_first_then_by_resource_policy_and_message():
    report = PolicyReport(
        findings=[
            Finding("b-rule", "advisory", "m", resource="a"),
            Finding("z-rule", "mandatory", "m", resource="b"),
            Finding("a-rule", "mandatory", "m", resource="b"),
            Finding("a-rule", "mandatory", "m", resource="a"),
            Finding("c-rule", "mandatory", "m2"),
        ]
    )
    ordered = [(f["level"], f["resource"], f["policy"]) for f in report.to_json()["findings"]]
    assert ordered == [
        ("mandatory", None, "c-rule"),
        ("mandatory", "a", "a-rule"),
        ("mandatory", "b", "a-rule"),
        ("mandatory", "b", "z-rule"),
        ("advisory", "a", "b-rule"),
    ]
    assert list(report.by_level()) == ["mandatory", "advisory"]
    assert list(report.by_level()["mandatory"]) == ["(stack)", "a", "b"]
    assert [f.policy for f in report.mandatory] == ["z-rule", "a-rule", "a-rule", "c-rule"]
    assert [f.policy for f in report.advisory] == ["b-rule"]


def test_rules_see_the_resources_name_as_the_engine_sends_it():
    # security-log-retention recognises a security log by its Pulumi name as well as its `name` input.
    tags = {"Environment": "production", "Project": "p", "Component": "c", "DeployedBy": "d"}
    log = resource(
        "vault-audit-logs", "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 30, "tags": tags}
    )
    findings = run([log], ["security-log-retention"]).findings
    assert [f.message for f in findings] == ["security log kept 30 days; at least 365 in production"]


def recording_policy(seen, name="records"):
    """A rule of every type that keeps what the runner hands it."""
    return ResourceValidationPolicy(
        name=name,
        description="records the arguments it is called with",
        validate=lambda args, report_violation: seen.append(args),
        enforcement_level=EnforcementLevel.ADVISORY,
    )


def test_rules_see_the_resources_urn_as_the_engine_sends_it():
    seen: list[Any] = []
    key = resource("key")
    run_policies(plan(key), policies=[recording_policy(seen)])
    assert [args.urn for args in seen] == ["urn:pulumi:test::candlefish-secrets::aws:kms/key:Key::key"]


def test_a_resource_without_custom_timeouts_reaches_rules_with_the_sdks_zero_timeouts():
    # pulumi_policy's analyzer builds PolicyCustomTimeouts(0, 0, 0) for a resource that sets none.
    seen: list[Any] = []
    run_policies(plan(resource("key")), policies=[recording_policy(seen)])
    timeouts = seen[0].opts.custom_timeouts
    assert (timeouts.create_seconds, timeouts.update_seconds, timeouts.delete_seconds) == (0, 0, 0)


def test_a_rule_that_declares_itself_not_applicable_is_reported_with_its_reason():
    def skip(args, report_violation):
        args.not_applicable("only for production stacks")

    policy = ResourceValidationPolicy(
        name="production-only",
        description="not applicable outside production",
        validate=skip,
        enforcement_level=EnforcementLevel.MANDATORY,
    )
    report = run_policies(plan(resource("key")), policies=[policy])
    assert report.not_applicable == [("production-only", "only for production stacks")]
    assert report.findings == []


def every_type(policy):
    """The same rule without its declared types, so the runner hands it every resource as the engine does."""
    return ResourceValidationPolicy(
        name=policy.name,
        description=policy.description,
        validate=policy.validate,
        enforcement_level=policy.enforcement_level,
        config_schema=policy.config_schema,
    )


def test_a_typed_rule_is_called_only_for_its_types():
    seen: list[Any] = []
    typed = TypedResourcePolicy(
        resource_types=frozenset({KMS}),
        name="typed",
        description="records what it is called for",
        validate=lambda args, report_violation: seen.append(args.name),
        enforcement_level=EnforcementLevel.ADVISORY,
    )
    plan = Plan("test", (resource("key"), resource("topic", "aws:sns/topic:Topic")), {}, ())
    run_policies(plan, policies=[typed])
    assert seen == ["key"]
    run_policies(plan, policies=[every_type(typed)])
    assert seen == ["key", "key", "topic"]


@pytest.mark.slow
def test_calling_rules_only_for_their_types_changes_no_finding(production, dev):
    """Each rule's declared types cover everything its check can flag: the clean production stack, and
    the dev stack judged as production (which breaks many rules), give the same report either way."""
    untyped = [every_type(p) if isinstance(p, TypedResourcePolicy) else p for p in ALL_POLICIES]
    as_production = {p.name: {"environment": "production"} for p in ALL_POLICIES}
    for recording, config in ((production, {}), (dev, as_production)):
        plan = Plan.from_recording(recording)
        filtered = run_policies(plan, config)
        unfiltered = run_policies(plan, config, policies=untyped)
        assert sorted(f.to_json().items() for f in filtered.findings) == sorted(
            f.to_json().items() for f in unfiltered.findings
        )
        assert filtered.not_applicable == unfiltered.not_applicable
    assert len(filtered.findings) > 10  # dev as production: the comparison has findings to compare
