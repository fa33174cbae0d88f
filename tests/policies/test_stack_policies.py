"""The whole pack over recorded stacks: the committed stacks pass, a deliberately insecure one does not."""

import copy
import json
import runpy
import sys
from pathlib import Path

import pulumi_policy
import pytest
import yaml

from policies.rules import ALL_POLICIES
from tests.policies.support import Fake, document
from tests.support.mocks import ROOT, RecordedResource, Recording, run_program
from tools.plan import Plan
from tools.policy_runner import PolicyConfigError, effective_level, load_config, run_policies

pytestmark = pytest.mark.slow
STACK_URN = "urn:pulumi:production::candlefish-secrets::"
PRODUCTION_TAGS = yaml.safe_load((ROOT / "Pulumi.production.yaml").read_text())["config"][
    "candlefish-secrets:tags"
]

# What the insecure variant below must trip, and nothing more: each entry is one deliberate mistake.
INSECURE_MANDATORY = {
    "no-plaintext-secrets",  # config: an access key id in the stack's tags, so on every resource
    "log-group-kms",  # the flow-log group's KMS key stripped
    "kms-key-rotation",  # the logs key's rotation switched off
    "kms-deletion-window",  # the data key's deletion window cut to 7 days in production
    "sg-no-world-ingress",  # the endpoints' ingress opened to 0.0.0.0/0 on 8200
    "subnet-no-auto-public-ip",  # a public subnet handing out public IPs
    "vpc-flow-logs",  # the VPC's flow log removed
    "default-security-group-closed",  # an allow-all rule on the default security group
    "iam-no-users",  # the deployment guide's admin user...
    "iam-no-access-keys",  # ...with an access key...
    "iam-no-user-policies",  # ...and AdministratorAccess attached to the user
    "iam-no-admin-policies",
    "iam-no-wildcard-actions",  # a role with Action "*"...
    "iam-trust-policy-scoped",  # ...that anyone may assume
    "s3-bucket-sse-kms",  # a bucket with SSE-S3 and no log-delivery grant
    "s3-public-access-block",  # ...and no public access block
    "s3-bucket-tls-only",  # ...and no TLS-only policy
    "vault-cluster-quorum",  # the Vault group cut to 4 nodes...
    "vault-cluster-zones",  # ...in two zones...
    "asg-private-subnets",  # ...one of them public...
    "vault-no-dev-mode",  # ...its instances tagged as dev-mode Vault, in production
    "imdsv2-required",  # the nodes' launch template accepting IMDSv1...
    "ec2-no-public-ip",  # ...giving them public IPs...
    "ec2-no-key-pair",  # ...and an SSH key pair
    "lb-listener-tls-policy",  # the HTTPS listener back on the TLS 1.0 default policy
}


def _add(recording: Recording, type_: str, name: str, inputs: dict, refs: dict | None = None) -> None:
    """Add a resource at the stack root; `refs` maps an input to the names of the resources it came from."""
    urn = f"{STACK_URN}{type_}::{name}"
    dependencies = {key: [recording.named(n).urn for n in names] for key, names in (refs or {}).items()}
    recording.resources.append(
        RecordedResource(
            type=type_,
            name=name,
            urn=urn,
            parent=None,
            custom=True,
            id=f"{name}-id",
            inputs=inputs,
            outputs={**inputs, "id": f"{name}-id"},
            property_dependencies=dependencies,
        )
    )


def _tags(**extra: str) -> dict[str, str]:
    return {**PRODUCTION_TAGS, **extra}


@pytest.fixture(scope="module")
def insecure() -> Recording:
    """Production with a leaked key in its config, weakened resources and an admin user added."""
    recording = run_program(
        "production",
        overrides={"candlefish-secrets:tags": {**PRODUCTION_TAGS, "CiAccessKey": Fake.AWS_ACCESS_KEY_ID}},
    )
    recording = copy.deepcopy(recording)
    recording.named("network-flow-logs").inputs.pop("kmsKeyId")
    recording.named("keys-logs").inputs["enableKeyRotation"] = False
    recording.named("keys-data").inputs["deletionWindowInDays"] = 7
    recording.named("network-endpoints-https-in").inputs.update(
        cidrIpv4="0.0.0.0/0", fromPort=8200, toPort=8200
    )
    recording.named("network-public-us-east-1a").inputs["mapPublicIpOnLaunch"] = True
    recording.resources.remove(recording.one("aws:ec2/flowLog:FlowLog"))
    default_sg = recording.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    default_sg.inputs["ingress"] = [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]

    _add(recording, "aws:iam/user:User", "admin", {"name": "admin", "tags": _tags()})
    _add(recording, "aws:iam/accessKey:AccessKey", "admin-key", {"user": "admin"})
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    _add(
        recording,
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "admin-full",
        {"user": "admin", "policyArn": admin},
    )
    anyone = document({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
    everything = document({"Effect": "Allow", "Action": "*", "Resource": "*"})
    role_inputs = {"assumeRolePolicy": anyone, "inlinePolicies": [{"name": "all", "policy": everything}]}
    _add(recording, "aws:iam/role:Role", "ops", {**role_inputs, "tags": _tags()})

    bucket = "aws:s3/bucket:Bucket"
    _add(recording, bucket, "exports", {"bucket": "candlefish-exports", "tags": _tags()})
    sse = {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}
    _add(
        recording,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "exports-sse",
        {"bucket": "candlefish-exports", **sse},
        {"bucket": ["exports"]},
    )

    nodes = recording.one("aws:autoscaling/group:Group")
    zones = [recording.named("network-public-us-east-1a"), recording.named("network-private-us-east-1b")]
    nodes.inputs.update(minSize=4, maxSize=4, desiredCapacity=4, vpcZoneIdentifiers=[z.id for z in zones])
    nodes.property_dependencies["vpcZoneIdentifiers"] = [z.urn for z in zones]
    template = recording.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    template["tagSpecifications"][0]["tags"]["VaultMode"] = "dev-in-memory"
    template["metadataOptions"]["httpTokens"] = "optional"
    template["networkInterfaces"][0]["associatePublicIpAddress"] = "true"
    template["keyName"] = "ops-laptop"
    recording.named("vault-https").inputs["sslPolicy"] = "ELBSecurityPolicy-2016-08"
    return recording


@pytest.mark.parametrize("stack", ["production", "dev"])
def test_the_committed_stacks_have_no_mandatory_violation(stack, request):
    report = run_policies(Plan.from_recording(request.getfixturevalue(stack)))
    assert report.mandatory == []
    assert report.policies == len(ALL_POLICIES)


# Advisory findings production accepts, each for a reason.
ACCEPTED_ADVISORIES = {
    # The rotation function's environment holds Vault's address, its public CA certificate and names:
    # nothing secret, so Lambda's default encryption of the environment is enough.
    ("rotation-function (aws:lambda/function:Function)", "lambda-environment-kms"),
    # The audit watcher's environment holds business hours, a time zone and metric names.
    ("monitoring-audit-watcher (aws:lambda/function:Function)", "lambda-environment-kms"),
    # The break-glass broker's holds table, log group and topic names, people's names, Vault's address and
    # public CA certificate: nothing secret (the token it mints never touches the environment).
    ("break-glass-broker (aws:lambda/function:Function)", "lambda-environment-kms"),
}


def test_production_has_no_advisory_findings_but_the_accepted_ones(production):
    findings = run_policies(Plan.from_recording(production)).findings
    assert {(finding.resource, finding.policy) for finding in findings} <= ACCEPTED_ADVISORIES
    assert all(finding.level == "advisory" for finding in findings)


def test_a_first_preview_only_notes_rules_that_cannot_run_yet():
    report = run_policies(Plan.from_recording(run_program("production", preview=True)))
    assert report.mandatory == []
    assert report.findings, "a first preview has values the rules cannot read yet"
    for finding in report.findings:
        if (finding.resource, finding.policy) in ACCEPTED_ADVISORIES:
            continue
        assert finding.preview_only and finding.level == "advisory"
        assert "during preview: " in finding.message and "can't be known during preview" in finding.message


def test_the_insecure_variant_trips_exactly_the_rules_it_should(insecure):
    report = run_policies(Plan.from_recording(insecure))
    assert report.violated_policies("mandatory") == INSECURE_MANDATORY
    leaked = [f for f in report.findings if f.policy == "no-plaintext-secrets"]
    assert len(leaked) >= 40  # every taggable resource carries the stack's tags
    assert all("CiAccessKey" in f.message and "an AWS access key id" in f.message for f in leaked)
    assert Fake.AWS_ACCESS_KEY_ID not in json.dumps(report.to_json())


def test_findings_name_the_resource_they_are_about(insecure):
    report = run_policies(Plan.from_recording(insecure))
    opened = [f for f in report.findings if f.policy == "sg-no-world-ingress"]
    assert [f.resource for f in opened] == [
        "network-endpoints-https-in (aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule)"
    ]
    assert opened[0].message == "ingress from 0.0.0.0/0 to port 8200 (Vault API)"
    quorum = [f for f in report.findings if f.policy == "vault-cluster-quorum"]
    assert quorum[0].resource == "vault-asg (aws:autoscaling/group:Group)"


def test_the_pack_config_sets_levels_per_rule_and_for_all(insecure, tmp_path):
    config_file = tmp_path / "policy-config.json"
    config_file.write_text(
        json.dumps(
            {
                "all": "advisory",
                "iam-no-users": {"enforcementLevel": "mandatory"},
                "no-plaintext-secrets": "disabled",
                "kms-deletion-window": {"productionMinimumDays": 7},
            }
        )
    )
    report = run_policies(Plan.from_recording(insecure), load_config(config_file))
    assert report.violated_policies("mandatory") == {"iam-no-users"}
    assert "no-plaintext-secrets" not in report.violated_policies()
    assert "kms-deletion-window" not in report.violated_policies()
    assert "vpc-flow-logs" in report.violated_policies("advisory")


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"iam-no-user": "advisory"}, "iam-no-user: no such rule"),
        ({"iam-no-users": "sometimes"}, "unknown enforcement level"),
        (
            {"kms-deletion-window": {"minimumDays": "seven"}},
            "kms-deletion-window.minimumDays: expected integer",
        ),
        ({"kms-deletion-window": {"minDays": 7}}, "kms-deletion-window.minDays: not a setting"),
    ],
)
def test_a_wrong_pack_config_is_refused_with_the_reason(config, problem, production):
    with pytest.raises(PolicyConfigError, match=problem):
        run_policies(Plan.from_recording(production), config)


def test_remediate_is_reported_as_mandatory_like_the_engine_does():
    policy = next(p for p in ALL_POLICIES if p.name == "log-group-retention")
    assert effective_level(policy, {"log-group-retention": "remediate"}).value == "mandatory"


def test_the_pack_entry_point_serves_every_rule(monkeypatch):
    served = {}

    def fake_pack(**kwargs):
        served.update(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", fake_pack)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    try:
        runpy.run_path(str(Path(ROOT, "policies")), run_name="__main__")
    finally:
        for name in set(sys.modules) - before:
            if name == "rules" or name.startswith("rules."):
                del sys.modules[name]
    assert served["name"] == "candlefish-secrets"
    assert [p.name for p in served["policies"]] == [p.name for p in ALL_POLICIES]
    manifest = yaml.safe_load(Path(ROOT, "policies", "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"]["name"] == "python" and manifest["description"]


def test_every_type_the_stack_tags_is_one_the_tag_rule_knows(production):
    # The rule checks a known taggable type even when its `tags` input is missing altogether; a type the
    # program tags but the rule does not know would lose its tags unnoticed.
    from policies.rules.tags import KNOWN_TAGGABLE

    tagged = {
        r.type for r in production.resources if r.custom and r.type.startswith("aws:") and "tags" in r.inputs
    }
    assert tagged - KNOWN_TAGGABLE == set()
