"""Single-condition cases for the mandatory stack rules on the Vault cluster and the guide's alarms.

Raft needs a majority of voters: 3 nodes survive 1 failure, 5 survive 2, and an even size adds a voter
without adding a failure it survives; the cluster's size must not drift (min = max = desired). Three zones
keep a majority when one zone is lost. The deployment guide's alarms: failed authentications over 5 per
minute, and an audit log gap noticed within 15 minutes with missing data counted as the gap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.policies.cases_encryption import bucket, bucket_policy, sse
from tests.policies.cases_exposure import ALL_BLOCKED, PUBLIC_ACCESS_BLOCK
from tests.policies.support import KEY, PRODUCTION, Res, document

ASG = "aws:autoscaling/group:Group"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SUBNET = "aws:ec2/subnet:Subnet"
TOPIC = "arn:aws:sns:us-east-1:123456789012:candlefish-production-alerts"
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]


@dataclass(frozen=True)
class StackCondition:
    """`rule` over the stack `build()` makes, and over `build(**change)`: the messages it must report."""

    rule: str
    build: Callable[..., list[Res]]
    change: dict[str, Any]
    messages: tuple[str, ...]
    config: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return f"{self.rule}[{','.join(f'{k}={v}' for k, v in self.change.items())}]"[:120]


def vault_group(
    size: int = 5,
    *,
    min_size: int | None = None,
    desired: int | str | None = "same",
    zones: list[str] | None = None,
    mode: str = "raft",
    environment: str = "production",
) -> list[Res]:
    props: dict[str, Any] = {
        "minSize": size if min_size is None else min_size,
        "maxSize": size,
        "availabilityZones": ZONES if zones is None else zones,
        "tags": [
            {"key": "VaultCluster", "value": "candlefish-production", "propagateAtLaunch": True},
            {"key": "VaultMode", "value": mode, "propagateAtLaunch": True},
            {"key": "Environment", "value": environment, "propagateAtLaunch": True},
        ],
    }
    if desired == "same":
        props["desiredCapacity"] = size
    elif desired is not None:
        props["desiredCapacity"] = desired
    return [Res(ASG, "vault", props)]


def template_tagged_group(size: int) -> list[Res]:
    """A group whose VaultCluster tag is on its launch template's own tags, not on the group."""
    template = Res(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "vault-lt",
        {"tags": {"VaultCluster": "candlefish-production"}},
    )
    props = {"minSize": size, "maxSize": size, "desiredCapacity": size, "availabilityZones": ZONES}
    return [template, Res(ASG, "vault", props, {"launchTemplate": ["vault-lt"]})]


def group_over_subnets(zones: list[str], field: str = "availabilityZone") -> list[Res]:
    subnets = [Res(SUBNET, f"private-{zone[-1]}", {field: zone}) for zone in zones]
    group = vault_group(zones=[])[0]
    group.refs["vpcZoneIdentifiers"] = [subnet.name for subnet in subnets]
    return [*subnets, group]


def guide_alarms(**changes: dict[str, Any]) -> list[Res]:
    """The guide's five alarms as the monitoring component makes them; `changes` maps an id to new props."""
    base: dict[str, dict[str, Any]] = {
        "seal-status": {"period": 60, "threshold": 1, "comparisonOperator": "LessThanThreshold"},
        "failed-auth": {"period": 60, "threshold": 5, "comparisonOperator": "GreaterThanThreshold"},
        "off-hours-access": {"period": 60, "threshold": 0},
        "audit-log-gap": {
            "period": 900,
            "evaluationPeriods": 1,
            "threshold": 1,
            "treatMissingData": "breaching",
        },
        "node-failure": {"period": 60, "evaluationPeriods": 10, "threshold": 5},
    }
    alarms = []
    for alarm_id, props in base.items():
        if changes.get(alarm_id) is None and alarm_id in changes:
            continue  # removed
        merged = {
            "alarmActions": [TOPIC],
            "tags": {**PRODUCTION, "GuideAlarm": alarm_id},
            **props,
            **(changes.get(alarm_id) or {}),
        }
        alarms.append(Res(ALARM, alarm_id, merged))
    return alarms


GROUP = "vault: Vault group vault (aws:autoscaling/group:Group)"


def said(alarm_id: str, problem: str) -> str:
    """How the rule words a problem with the alarm tagged `alarm_id` (named after its id here)."""
    return f"{alarm_id}: guide alarm {alarm_id} ({alarm_id}) {problem}"


def quorum(change: dict[str, Any], *messages: str) -> StackCondition:
    return StackCondition("vault-cluster-quorum", vault_group, change, messages)


def alarms(change: dict[str, Any], *messages: str) -> StackCondition:
    return StackCondition("guide-alarms", guide_alarms, change, messages)


STACK_CONDITIONS = [
    quorum({"size": 3}),
    quorum({"size": 7}),
    quorum(
        {"size": 2},
        GROUP + " runs 2 nodes; raft needs at least 3",
    ),
    quorum(
        {"size": 1},
        GROUP + " runs 1 nodes; raft needs at least 3",
    ),
    quorum(
        {"size": 4},
        GROUP + " runs 4 nodes: 4 raft voters tolerate 1 failure(s)",
    ),
    quorum(
        {"size": 6},
        GROUP + " runs 6 nodes: 6 raft voters tolerate 2 failure(s)",
    ),
    quorum(
        {"min_size": 3},
        GROUP + " has min 3.0, max 5.0, desired 5.0: they must be equal",
    ),
    quorum(
        {"desired": 3},
        GROUP + " has min 5.0, max 5.0, desired 3.0: they must be equal",
    ),
    quorum({"desired": None}),  # AWS starts a group without a desired capacity at its minimum
    StackCondition(
        "vault-cluster-zones",
        vault_group,
        {"zones": ZONES[:2]},
        (GROUP + " spans 2 zone(s) (us-east-1a, us-east-1b); at least 3",),
    ),
    StackCondition("vault-cluster-zones", vault_group, {"zones": [*ZONES, "us-east-1d"]}, ()),
    StackCondition(
        "vault-cluster-zones",
        vault_group,
        {"zones": ["us-east-1a", "us-east-1a", "us-east-1b"]},
        (GROUP + " spans 2 zone(s) (us-east-1a, us-east-1b); at least 3",),
    ),
    StackCondition(
        "vault-cluster-zones",
        lambda zones=ZONES: group_over_subnets(zones),
        {"zones": ZONES[:2]},
        (GROUP + " spans 2 zone(s) (us-east-1a, us-east-1b); at least 3",),
    ),
    StackCondition(
        "vault-cluster-zones",
        lambda zones=("use1-az1", "use1-az2", "use1-az4"): group_over_subnets(
            list(zones), "availabilityZoneId"
        ),
        {"zones": ("use1-az1", "use1-az2")},
        (GROUP + " spans 2 zone(s) (use1-az1, use1-az2); at least 3",),
    ),
    # The auto-join tag may sit on the group's launch template alone.
    StackCondition(
        "vault-cluster-quorum",
        lambda size=3: template_tagged_group(size),
        {"size": 2},
        (GROUP + " runs 2 nodes; raft needs at least 3",),
    ),
    # A dev-mode group is exempt outside production, and only there.
    StackCondition(
        "vault-cluster-quorum",
        lambda size=2: vault_group(size, mode="dev", environment="dev"),
        {"size": 2},
        (),
    ),
    StackCondition(
        "vault-cluster-quorum",
        lambda size=3, environment="dev": vault_group(size, mode="dev", environment=environment),
        {"size": 2, "environment": "production"},
        (GROUP + " runs 2 nodes; raft needs at least 3",),
    ),
    StackCondition(
        "vault-cluster-quorum",
        lambda size=3: vault_group(size, mode="dev", environment="dev"),
        {"size": 2},
        (GROUP + " runs 2 nodes; raft needs at least 3",),
        config={"environment": "production"},
    ),
    alarms(
        {"failed-auth": {"threshold": 6}},
        said("failed-auth", "fires above 6 per 60s; the guide asks for > 5 per minute"),
    ),
    alarms(
        {"failed-auth": {"period": 120}},
        said("failed-auth", "fires above 5 per 120s; the guide asks for > 5"),
    ),
    alarms({"failed-auth": {"threshold": 4}}),  # stricter than the guide is allowed
    alarms(
        {"audit-log-gap": {"treatMissingData": "notBreaching"}},
        said("audit-log-gap", "must treat missing data as breaching"),
    ),
    alarms(
        {"audit-log-gap": {"treatMissingData": None}},
        said("audit-log-gap", "must treat missing data as breaching"),
    ),
    alarms({"audit-log-gap": {"period": 300, "evaluationPeriods": 3}}),  # exactly 15 minutes
    alarms(
        {"audit-log-gap": {"period": 300, "evaluationPeriods": 4}},
        said("audit-log-gap", "notices a gap only after 1200s"),
    ),
    alarms(
        {"audit-log-gap": {"period": 960}},
        said("audit-log-gap", "notices a gap only after 960s"),
    ),
    alarms(
        {"seal-status": {"alarmActions": []}},
        said("seal-status", "notifies no one"),
    ),
    alarms(
        {"node-failure": {"actionsEnabled": False}},
        said("node-failure", "notifies no one"),
    ),
    alarms(
        {"off-hours-access": None},
        "stack: the deployment guide's alarm 'off-hours-access' is missing (no MetricAlarm tagged",
    ),
]


# --- S3 buckets and VPCs -----------------------------------------------------------------------------------

TLS_DENY = {
    "Sid": "DenyPlaintext",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::audit-b", "arn:aws:s3:::audit-b/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def audit_bucket(
    algorithm: str = "aws:kms",
    key: str | None = KEY,
    blocks: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
) -> list[Res]:
    resources = [bucket("audit"), sse("audit", algorithm, key)]
    if blocks is not None:
        resources.append(
            Res(PUBLIC_ACCESS_BLOCK, "audit-pab", {"bucket": "audit-b", **blocks}, {"bucket": ["audit"]})
        )
    if policy is not None:
        resources.append(bucket_policy("audit", document(policy)))
    return resources


def vpc(flow: str | None = "ALL", default_group: dict[str, Any] | None = None) -> list[Res]:
    resources = [Res("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})]
    if flow is not None:
        resources.append(Res("aws:ec2/flowLog:FlowLog", "flow", {"trafficType": flow}, {"vpcId": ["vpc"]}))
    if default_group is not None:
        resources.append(
            Res(
                "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
                "default-sg",
                default_group,
                {"vpcId": ["vpc"]},
            )
        )
    return resources


BUCKET_LABEL = "audit: bucket audit (aws:s3/bucket:Bucket)"
VPC_LABEL = "vpc: VPC vpc (aws:ec2/vpc:Vpc)"
OPEN = [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]

STACK_CONDITIONS += [
    StackCondition(
        "s3-bucket-sse-kms",
        audit_bucket,
        {"algorithm": "AES256", "key": None},
        (
            BUCKET_LABEL
            + " uses SSE-S3: only the load balancer's access-log bucket and the S3 server-access-log",
        ),
    ),
    StackCondition(
        "s3-bucket-sse-kms",
        audit_bucket,
        {"key": "alias/aws/s3"},
        (BUCKET_LABEL + " must default to SSE-KMS (aws:kms) with a customer-managed key",),
    ),
    StackCondition(
        "s3-bucket-sse-kms",
        audit_bucket,
        {"key": None},
        (BUCKET_LABEL + " must default to SSE-KMS (aws:kms) with a customer-managed key",),
    ),
    StackCondition("s3-bucket-sse-kms", audit_bucket, {"algorithm": "aws:kms:dsse"}, ()),
    *(
        StackCondition(
            "s3-public-access-block",
            lambda blocks=ALL_BLOCKED: audit_bucket(blocks=blocks),
            {"blocks": {**ALL_BLOCKED, setting: False}},
            (f"{BUCKET_LABEL}'s public access block leaves off {setting}",),
        )
        for setting in ALL_BLOCKED
    ),
    StackCondition(
        "s3-public-access-block",
        lambda blocks=ALL_BLOCKED: audit_bucket(blocks=blocks),
        {"blocks": None},
        (BUCKET_LABEL + " has no BucketPublicAccessBlock",),
    ),
    StackCondition(
        "s3-bucket-tls-only",
        lambda policy=TLS_DENY: audit_bucket(policy=policy),
        {"policy": None},
        (BUCKET_LABEL + " does not deny requests without TLS",),
    ),
    StackCondition(
        "s3-bucket-tls-only",
        lambda policy=TLS_DENY: audit_bucket(policy=policy),
        {"policy": {**TLS_DENY, "Effect": "Allow"}},
        (BUCKET_LABEL + " does not deny requests without TLS",),
    ),
    StackCondition(
        "s3-bucket-tls-only",
        lambda policy=TLS_DENY: audit_bucket(policy=policy),
        {"policy": {**TLS_DENY, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}},
        (BUCKET_LABEL + " does not deny requests without TLS",),
    ),
    StackCondition("vpc-flow-logs", vpc, {"flow": None}, (VPC_LABEL + " has no flow log",)),
    StackCondition(
        "vpc-flow-logs", vpc, {"flow": "REJECT"}, (VPC_LABEL + "'s flow logs do not capture ALL traffic",)
    ),
    StackCondition(
        "vpc-flow-logs", vpc, {"flow": "ACCEPT"}, (VPC_LABEL + "'s flow logs do not capture ALL traffic",)
    ),
    StackCondition(
        "default-security-group-closed",
        lambda default_group={}: vpc(default_group=default_group),
        {"default_group": None},
        (VPC_LABEL + "'s default security group is not adopted and emptied",),
    ),
    StackCondition(
        "default-security-group-closed",
        lambda default_group={}: vpc(default_group=default_group),
        {"default_group": {"ingress": OPEN}},
        ("default-sg: default security group default-sg",),
    ),
    StackCondition(
        "default-security-group-closed",
        lambda default_group={}: vpc(default_group=default_group),
        {"default_group": {"egress": OPEN}},
        ("default-sg: default security group default-sg",),
    ),
]
