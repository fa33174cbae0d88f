"""The edges of the rules: exemptions, environments, configured thresholds, values unknown at preview."""

import base64
import gzip
import importlib
import json
import re
import warnings

import pytest
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UnknownValueError

from policies.rules import ALL_POLICIES
from policies.rules.tags import KNOWN_TAGGABLE
from policies.rules.vault import rotation_interval_days
from tests.policies.cases_encryption import ELB_DELIVERY, bucket, bucket_policy, sse
from tests.policies.cases_exposure import ALL_BLOCKED, PUBLIC_ACCESS_BLOCK
from tests.policies.cases_identity import EC2_TRUST
from tests.policies.cases_vault import (
    GUIDE_ALARMS,
    VAULT_COMPONENT,
    catalog_secret,
    guide_alarm,
    rotation,
    seeds,
    vault_group,
)
from tests.policies.support import (
    DEV,
    KEY,
    PRODUCTION,
    UNKNOWN,
    Fake,
    Res,
    check_resource,
    check_stack,
    document,
)
from tests.support.mocks import ROOT
from tools.policy_runner import check_config, rule_table

LOG_BUCKET_TAG = {"BucketPurpose": "elb-access-logs"}


# --- Metadata every rule carries -------------------------------------------------------------------------


CATALOGUE_REFS = re.compile(r"(?:checkov|AWSGuard|compliance-policies) [\w.-]+(?:, [\w.-]+)*")


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: p.name)
def test_every_rule_names_its_corresponding_checks_and_configurable_settings(policy):
    summary, separator, refs = policy.description.partition(" Corresponds to: ")
    assert summary.endswith(".") and separator, policy.description
    assert refs == "none." or all(CATALOGUE_REFS.fullmatch(part) for part in refs.rstrip(".").split("; ")), (
        refs
    )
    assert policy.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)
    assert policy.remediation_steps.endswith("."), policy.remediation_steps
    settings = policy.config_schema.properties
    assert {"environment", "productionEnvironments"} <= set(settings)
    # The CLI shows a setting's description in the pack's config schema: a sentence, like the rest.
    for key, spec in settings.items():
        described = spec.get("description", "A sentence.")
        assert described[:1].isupper() and described.endswith("."), (key, described)
    # Every default is of its declared type, so the CLI accepts the rule's own defaults as a pack config.
    defaults = {key: spec["default"] for key, spec in settings.items() if "default" in spec}
    check_config({policy.name: defaults}, ALL_POLICIES)


def test_security_rules_are_mandatory_and_operations_rules_advisory():
    levels = {p.name: p.enforcement_level and p.enforcement_level.value for p in ALL_POLICIES}
    assert (
        levels["sg-no-world-ingress"]
        == levels["iam-no-users"]
        == levels["no-plaintext-secrets"]
        == "mandatory"
    )
    assert levels["log-group-retention"] == levels["rds-performance-insights"] == "advisory"


# --- S3 encryption and the ELB access-log bucket ---------------------------------------------------------


def test_a_bucket_without_any_encryption_configuration_is_reported():
    assert check_stack("s3-bucket-sse-kms", [bucket("audit")]) == [
        "audit: bucket audit (aws:s3/bucket:Bucket) has no BucketServerSideEncryptionConfiguration with a "
        "default rule"
    ]


def test_sse_kms_with_the_aws_managed_key_is_not_enough():
    found = check_stack("s3-bucket-sse-kms", [bucket("audit"), sse("audit", "aws:kms", "alias/aws/s3")])
    assert "must default to SSE-KMS" in found[0]


def test_the_log_bucket_tag_alone_does_not_exempt_a_bucket_whose_policy_grants_no_delivery():
    stack = [bucket("logs", LOG_BUCKET_TAG), sse("logs", "AES256"), bucket_policy("logs", document())]
    assert "no bucket policy grants ELB log delivery" in check_stack("s3-bucket-sse-kms", stack)[0]


def test_the_log_bucket_tag_exempts_while_its_policy_is_unknown_at_preview():
    stack = [bucket("logs", LOG_BUCKET_TAG), sse("logs", "AES256"), bucket_policy("logs", UNKNOWN)]
    assert check_stack("s3-bucket-sse-kms", stack) == []


def test_elb_delivery_by_service_principal_also_exempts():
    policy = document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            "Action": "s3:PutObject",
        }
    )
    assert (
        check_stack(
            "s3-bucket-sse-kms", [bucket("logs"), sse("logs", "AES256"), bucket_policy("logs", policy)]
        )
        == []
    )


def s3_log_delivery(service):
    return document({"Effect": "Allow", "Principal": {"Service": service}, "Action": "s3:PutObject"})


def test_s3_server_access_log_delivery_exempts_the_log_bucket_from_sse_kms():
    stack = [
        bucket("s3logs"),
        sse("s3logs", "AES256"),
        bucket_policy("s3logs", s3_log_delivery("logging.s3.amazonaws.com")),
    ]
    assert check_stack("s3-bucket-sse-kms", stack) == []


def test_a_grant_to_another_service_does_not_exempt_an_sse_s3_bucket():
    stack = [
        bucket("s3logs"),
        sse("s3logs", "AES256"),
        bucket_policy("s3logs", s3_log_delivery("ec2.amazonaws.com")),
    ]
    assert check_stack("s3-bucket-sse-kms", stack) == [
        "s3logs: bucket s3logs (aws:s3/bucket:Bucket) uses SSE-S3: only the load balancer's access-log "
        "bucket and the S3 server-access-log bucket (whose policies grant log delivery) may use SSE-S3 "
        "(AES256)"
    ]


def test_references_are_followed_by_value_when_there_are_no_property_dependencies():
    unlinked_sse = sse("audit", "aws:kms", KEY)
    unlinked_sse.refs = {}
    assert check_stack("s3-bucket-sse-kms", [bucket("audit"), unlinked_sse]) == []
    assert (
        check_stack(
            "s3-bucket-sse-kms", [bucket("logs"), sse("logs", "AES256"), bucket_policy("logs", ELB_DELIVERY)]
        )
        == []
    )


def test_a_bucket_without_a_public_access_block_is_reported():
    assert "has no BucketPublicAccessBlock" in check_stack("s3-public-access-block", [bucket("a")])[0]
    good = [bucket("a"), Res(PUBLIC_ACCESS_BLOCK, "a-pab", ALL_BLOCKED, {"bucket": ["a"]})]
    assert check_stack("s3-public-access-block", good) == []


# --- Values unknown at preview ---------------------------------------------------------------------------


def test_an_unknown_kms_key_reference_counts_as_a_customer_key():
    assert check_resource("log-group-kms", "aws:cloudwatch/logGroup:LogGroup", {"kmsKeyId": UNKNOWN}) == []


def test_a_decisive_unknown_value_raises_as_the_engine_expects():
    with pytest.raises(UnknownValueError):
        check_resource("rds-not-public", "aws:rds/instance:Instance", {"publiclyAccessible": UNKNOWN})


# --- Network exposure ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "props", "port"),
    [
        (
            "aws:ec2/securityGroup:SecurityGroup",
            {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "ipv6CidrBlocks": ["::/0"]}]},
            22,
        ),
        (
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            {"type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]},
            5432,
        ),
        (
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"cidrIpv4": "0.0.0.0/0", "fromPort": 6000, "toPort": 7000, "ipProtocol": "tcp"},
            6379,
        ),
    ],
)
def test_world_ingress_is_caught_in_every_kind_of_rule(type_, props, port):
    assert any(f"port {port}" in m for m in check_resource("sg-no-world-ingress", type_, props))


def test_world_egress_and_https_ingress_are_not_this_rules_business():
    egress = {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}
    https = {"cidrIpv4": "0.0.0.0/0", "fromPort": 443, "toPort": 443, "ipProtocol": "tcp"}
    assert check_resource("sg-no-world-ingress", "aws:ec2/securityGroupRule:SecurityGroupRule", egress) == []
    assert (
        check_resource(
            "sg-no-world-ingress", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", https
        )
        == []
    )


def test_the_sensitive_ports_are_configurable():
    https = {"cidrIpv4": "0.0.0.0/0", "fromPort": 443, "toPort": 443, "ipProtocol": "tcp"}
    found = check_resource(
        "sg-no-world-ingress",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        https,
        config={"ports": [443]},
    )
    assert found == ["ingress from 0.0.0.0/0 to port 443 (sensitive)"]


def test_an_instance_with_a_public_ip_is_reported():
    found = check_resource(
        "ec2-no-public-ip", "aws:ec2/instance:Instance", {"associatePublicIpAddress": True}
    )
    assert found == ["instance gets a public IP (associatePublicIpAddress)"]


def test_a_tcp_listener_is_plaintext_unless_configured_as_tls_passthrough():
    props = {"protocol": "TCP", "port": 8200}
    assert check_resource("lb-listener-https", "aws:lb/listener:Listener", props)
    assert (
        check_resource(
            "lb-listener-https", "aws:lb/listener:Listener", props, config={"tcpPassthroughPorts": [8200]}
        )
        == []
    )


# --- Environments and thresholds -------------------------------------------------------------------------


def test_production_only_rules_leave_other_environments_alone():
    assert check_resource("rds-multi-az", "aws:rds/instance:Instance", {"multiAz": False, "tags": DEV}) == []
    assert check_resource("rds-multi-az", "aws:rds/instance:Instance", {"multiAz": False}) == []


def test_the_environment_can_come_from_config_or_stack_tags():
    single_az = {"multiAz": False}
    assert check_resource(
        "rds-multi-az", "aws:rds/instance:Instance", single_az, config={"environment": "production"}
    )
    assert check_resource(
        "rds-multi-az", "aws:rds/instance:Instance", single_az, stack_tags={"Environment": "production"}
    )
    staging = {"environment": "staging", "productionEnvironments": ["production", "staging"]}
    assert check_resource("rds-multi-az", "aws:rds/instance:Instance", single_az, config=staging)


def test_deletion_windows_are_7_days_outside_production_and_30_in_it():
    week = {"deletionWindowInDays": 7}
    assert check_resource("kms-deletion-window", "aws:kms/key:Key", {**week, "tags": DEV}) == []
    assert check_resource("kms-deletion-window", "aws:kms/key:Key", {**week, "tags": PRODUCTION})
    assert (
        check_resource("kms-deletion-window", "aws:kms/key:Key", {"tags": PRODUCTION}) == []
    )  # AWS default 30
    assert check_resource(
        "kms-deletion-window", "aws:kms/key:Key", {**week, "tags": DEV}, config={"minimumDays": 14}
    ) == ["scheduled key deletion waits 7 days; at least 14 here"]


def test_keys_aws_cannot_rotate_are_exempt_from_rotation():
    custom_store = {"enableKeyRotation": False, "customKeyStoreId": "cks-0123456789abcdef0"}
    asymmetric = {"enableKeyRotation": False, "customerMasterKeySpec": "RSA_4096", "keyUsage": "SIGN_VERIFY"}
    assert check_resource("kms-key-rotation", "aws:kms/key:Key", custom_store) == []
    assert check_resource("kms-key-rotation", "aws:kms/key:Key", asymmetric) == []
    slow = {"enableKeyRotation": True, "rotationPeriodInDays": 730}
    assert check_resource("kms-key-rotation", "aws:kms/key:Key", slow) == [
        "key rotates every 730 days; at most every 365"
    ]


def test_security_logs_are_recognised_by_logical_name_too():
    props = {"retentionInDays": 30, "tags": PRODUCTION}
    found = check_resource(
        "security-log-retention",
        "aws:cloudwatch/logGroup:LogGroup",
        props,
        resource_name="monitoring-audit-log",
    )
    assert found == ["security log kept 30 days; at least 365 in production"]


# --- Identity --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        "arn:aws:iam::aws:policy/PowerUserAccess",
        "arn:aws:iam::aws:policy/job-function/SystemAdministrator-FullAccess",
    ],
)
def test_full_access_managed_policies_are_refused_on_roles(arn):
    found = check_resource("iam-no-admin-policies", "aws:iam/role:Role", {"managedPolicyArns": [arn]})
    assert found and "attaches the AWS managed policy" in found[0]


def test_a_full_access_policy_can_be_allowed_by_config():
    attachment = {"policyArn": "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"}
    assert (
        check_resource(
            "iam-no-admin-policies", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", attachment
        )
        == []
    )
    s3_full = {"policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}
    config = {"allowedPolicies": ["AmazonS3FullAccess"]}
    assert (
        check_resource(
            "iam-no-admin-policies",
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            s3_full,
            config=config,
        )
        == []
    )


def test_wildcards_in_inline_role_policies_and_service_wildcards_are_refused():
    inline = {"inlinePolicies": [{"name": "ops", "policy": document({"Effect": "Allow", "Action": "kms:*"})}]}
    assert check_resource("iam-no-wildcard-actions", "aws:iam/role:Role", inline) == [
        "statement 0 allows kms:*"
    ]
    assert (
        check_resource(
            "iam-no-wildcard-actions", "aws:iam/role:Role", inline, config={"allowServiceWildcards": True}
        )
        == []
    )
    not_action = document({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert (
        "NotAction"
        in check_resource("iam-no-wildcard-actions", "aws:iam/policy:Policy", {"policy": not_action})[0]
    )
    deny_all = document({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert check_resource("iam-no-wildcard-actions", "aws:iam/policy:Policy", {"policy": deny_all}) == []


def test_trust_in_any_principal_needs_a_condition_pinning_the_caller():
    pinned = document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg"}},
        }
    )
    unrelated = document(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }
    )
    assert check_resource("iam-trust-policy-scoped", "aws:iam/role:Role", {"assumeRolePolicy": pinned}) == []
    assert check_resource("iam-trust-policy-scoped", "aws:iam/role:Role", {"assumeRolePolicy": unrelated})


def test_federated_trust_needs_a_subject_condition():
    provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    github = {
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    scoped = {
        **github,
        "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:candlefish/secrets:*"}},
    }
    assert check_resource(
        "iam-trust-policy-scoped", "aws:iam/role:Role", {"assumeRolePolicy": document(github)}
    )
    assert (
        check_resource("iam-trust-policy-scoped", "aws:iam/role:Role", {"assumeRolePolicy": document(scoped)})
        == []
    )


def test_a_user_policy_attachment_through_policy_attachment_is_refused():
    found = check_resource(
        "iam-no-user-policies",
        "aws:iam/policyAttachment:PolicyAttachment",
        {"users": ["admin"], "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
    )
    assert found == ["policies attach to roles, never to users"]


def test_the_ec2_trust_policy_is_scoped():
    assert (
        check_resource("iam-trust-policy-scoped", "aws:iam/role:Role", {"assumeRolePolicy": EC2_TRUST}) == []
    )


# --- Vault -----------------------------------------------------------------------------------------------


def test_a_cluster_component_without_a_group_is_reported():
    assert check_stack("vault-cluster-quorum", [Res("candlefish:secrets:VaultCluster", "vault")]) == [
        "stack: the VaultCluster component has no Auto Scaling group (none tagged VaultCluster)"
    ]


def test_vault_groups_are_found_by_component_or_by_their_launch_templates_instance_tags():
    in_component = [
        Res("candlefish:secrets:VaultCluster", "vault"),
        Res("aws:autoscaling/group:Group", "nodes", {"minSize": 4, "maxSize": 4}, parent="vault"),
    ]
    assert "runs 4 nodes" in check_stack("vault-cluster-quorum", in_component)[0]
    node_tags = {
        "resourceType": "instance",
        "tags": {"VaultCluster": "candlefish-production", "VaultMode": "raft"},
    }
    by_template = [
        Res("aws:ec2/launchTemplate:LaunchTemplate", "vault-lt", {"tagSpecifications": [node_tags]}),
        Res(
            "aws:autoscaling/group:Group",
            "nodes",
            {"minSize": 2, "maxSize": 2},
            {"launchTemplate": ["vault-lt"]},
        ),
    ]
    assert "runs 2 nodes; raft needs at least 3" in check_stack("vault-cluster-quorum", by_template)[0]


def test_stacks_without_a_cluster_are_not_checked_yet():
    assert check_stack("vault-cluster-quorum", [Res("aws:ec2/vpc:Vpc", "vpc")]) == []
    assert check_stack("guide-alarms", [Res("aws:ec2/vpc:Vpc", "vpc")]) == []


def test_a_single_node_or_an_elastic_group_is_not_a_raft_cluster():
    assert "runs 1 nodes; raft needs at least 3" in check_stack("vault-cluster-quorum", vault_group(1))[0]
    elastic = vault_group(3, maxSize=6)
    assert "they must be equal" in check_stack("vault-cluster-quorum", elastic)[0]


def test_a_dev_mode_vault_is_fine_outside_production_only():
    dev_tags = [{"key": k, "value": v} for k, v in {**DEV, "VaultCluster": "dev", "VaultMode": "dev"}.items()]
    single = vault_group(1, tags=dev_tags)
    assert check_stack("vault-cluster-quorum", single) == []
    assert check_stack("vault-no-dev-mode", single) == []
    prod_tags = [
        {"key": k, "value": v} for k, v in {**PRODUCTION, "VaultCluster": "p", "VaultMode": "dev"}.items()
    ]
    assert check_stack("vault-no-dev-mode", vault_group(3, tags=prod_tags))


def _production_template(**props):
    return [
        Res("aws:ec2/vpc:Vpc", "vpc", {"tags": PRODUCTION}),
        Res("aws:ec2/launchTemplate:LaunchTemplate", "vault-lt", {"tags": PRODUCTION, **props}),
    ]


def test_dev_mode_is_recognised_in_gzipped_base64_user_data():
    config = b"#cloud-config\nwrite_files:\n  - path: /etc/vault.d/vault.hcl\n"
    config += b'    content: |\n      storage "inmem" {}\n'
    user_data = base64.b64encode(gzip.compress(config)).decode()
    assert check_stack("vault-no-dev-mode", _production_template(userData=user_data)) == [
        "vault-lt: vault-lt (aws:ec2/launchTemplate:LaunchTemplate)'s user data runs Vault in dev mode in a "
        "production stack"
    ]
    dev_flag = base64.b64encode(b"#!/bin/bash\nexec vault server -dev\n").decode()
    assert check_stack("vault-no-dev-mode", _production_template(userData=dev_flag))


def test_dev_mode_is_recognised_on_the_instances_a_launch_template_tags():
    specification = {"resourceType": "instance", "tags": {"VaultMode": "dev-in-memory"}}
    found = check_stack("vault-no-dev-mode", _production_template(tagSpecifications=[specification]))
    assert found == [
        "vault-lt: vault-lt (aws:ec2/launchTemplate:LaunchTemplate) is marked as a dev-mode Vault in a "
        "production stack"
    ]
    raft = {"resourceType": "instance", "tags": {"VaultMode": "raft"}}
    assert check_stack("vault-no-dev-mode", _production_template(tagSpecifications=[raft])) == []


@pytest.mark.parametrize(
    ("rules", "days"),
    [
        ({"automaticallyAfterDays": 30}, 30),
        ({"scheduleExpression": "rate(10 days)"}, 10),
        ({"scheduleExpression": "rate(12 hours)"}, 0.5),
        ({"scheduleExpression": "cron(0 4 1 * ? *)"}, 31),
        ({"scheduleExpression": "cron(0 4 ? * SUN *)"}, 7),
        ({"scheduleExpression": "cron(0 4 1 1 ? *)"}, None),
    ],
)
def test_rotation_intervals_are_read_from_days_rates_and_crons(rules, days):
    assert rotation_interval_days(rules) == days


def test_a_catalog_secret_needs_a_rotation_within_its_declared_days_and_type_limit():
    assert (
        "has no SecretRotation"
        in check_stack("catalog-secret-rotation", [catalog_secret("smithery", "api-key", 30)])[0]
    )
    too_long = [catalog_secret("smithery", "api-key", 120), rotation("smithery", 30)]
    assert "api-key secrets rotate at least every 90" in check_stack("catalog-secret-rotation", too_long)[0]
    slower_than_declared = [catalog_secret("smithery", "api-key", 30), rotation("smithery", 60)]
    assert "must rotate within 30" in check_stack("catalog-secret-rotation", slower_than_declared)[0]
    unknown_kind = [catalog_secret("x", "ssh-key", 30), rotation("x", 30)]
    assert (
        "has type 'ssh-key', which has no rotation limit"
        in check_stack("catalog-secret-rotation", unknown_kind)[0]
    )
    by_rate = [catalog_secret("smithery", "api-key", 30), rotation("smithery", schedule="rate(30 days)")]
    assert check_stack("catalog-secret-rotation", by_rate) == []


def test_secrets_outside_the_catalog_are_not_rotation_checked():
    plain = Res(
        "aws:secretsmanager/secret:Secret", "kmsuser", {"name": "candlefish/production/cloudhsm/kmsuser"}
    )
    assert check_stack("catalog-secret-rotation", [plain]) == []
    assert check_stack("catalog-secret-seeded", [plain]) == []


def test_guide_alarm_thresholds_follow_the_deployment_guide():
    lax = [a for a in GUIDE_ALARMS if a.name not in ("alarm-failed-auth", "alarm-audit-log-gap")]
    lax += [
        guide_alarm("failed-auth", threshold=20, period=300),
        guide_alarm("audit-log-gap", period=900, evaluationPeriods=2, treatMissingData="notBreaching"),
    ]
    found = check_stack("guide-alarms", lax)
    assert any("fires above 20 per 300s" in m for m in found)
    assert any("treat missing data as breaching" in m for m in found)
    assert any("notices a gap only after 1800s" in m for m in found)


def test_a_guide_alarm_that_notifies_no_one_is_reported():
    silent = [a for a in GUIDE_ALARMS if a.name != "alarm-seal-status"] + [
        guide_alarm("seal-status", alarmActions=[])
    ]
    assert check_stack("guide-alarms", silent) == [
        "alarm-seal-status: guide alarm seal-status (alarm-seal-status) notifies no one "
        "(alarmActions empty or actions disabled)"
    ]


# --- Plaintext secrets -----------------------------------------------------------------------------------


def _secrets(type_, props):
    return check_resource("no-plaintext-secrets", type_, props)


@pytest.mark.parametrize(
    ("props", "kind"),
    [
        (
            {"userData": base64.b64encode(("#!/bin/bash\nexport DB=" + Fake.DATABASE_URL).encode()).decode()},
            "connection",
        ),
        ({"userData": "#!/bin/bash\nexport VAULT_API_KEY=" + Fake.API_KEY}, "assignment"),
        ({"description": "key for ops: " + Fake.PRIVATE_KEY}, "a private key"),
        ({"tagSpecifications": [{"tags": {"Build": Fake.TOKEN}}]}, "high-entropy token"),
    ],
)
def test_secret_material_is_found_anywhere_in_the_inputs(props, kind):
    found = _secrets("aws:ec2/launchTemplate:LaunchTemplate", props)
    assert any(kind in message for message in found), found


def test_secret_named_environment_variables_and_tag_pairs_are_reported():
    env = {
        "environment": {"variables": {"SMITHERY_API_KEY": Fake.API_KEY, "VAULT_ADDR": "https://vault:8200"}}
    }
    assert _secrets("aws:lambda/function:Function", env) == [
        "input environment.variables.SMITHERY_API_KEY holds a literal value under the secret-named key "
        "'SMITHERY_API_KEY' in plaintext; pass it as a Pulumi secret from secure config"
    ]
    asg = {"tags": [{"key": "DB_PASSWORD", "value": "hunter2-but-longer", "propagateAtLaunch": True}]}
    assert "secret-named key 'DB_PASSWORD'" in _secrets("aws:autoscaling/group:Group", asg)[0]


def test_pulumi_secrets_ids_arns_certificates_and_names_are_not_secret_material():
    props = {
        "kmsKeyId": KEY,
        "name": "candlefish/production/mongodb",
        "secretName": "candlefish/production/mongodb",
        "trustAnchorCertificate": "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZm9vYmFyYmF6cXV4\n"
        "-----END CERTIFICATE-----",
        "password": "[secret]",
        "subnetIds": ["subnet-0d8bd6820aeb50beb"],
        "__provider": Fake.TOKEN,
    }
    assert _secrets("aws:kms/customKeyStore:CustomKeyStore", props) == []


def test_schema_secret_fields_are_skipped_for_the_cli_path_where_secrets_arrive_unwrapped():
    version = {
        "secretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
        "secretString": Fake.TOKEN,
    }
    assert _secrets("aws:secretsmanager/secretVersion:SecretVersion", version) == []
    seed = {
        "secretName": "candlefish/production/jwt-secret",
        "vaultPath": "secret/candlefish/jwt",
        "value": Fake.TOKEN,
    }
    assert _secrets("pulumi-python:dynamic:Resource", seed) == []
    bootstrap = {"address": "https://vault:8200", "adopt_token": "hvs." + "CAESIJ3x" * 4}
    assert _secrets("pulumi-python:dynamic/candlefish:BootstrappedVault", bootstrap) == []
    assert _secrets(
        "pulumi-python:dynamic/candlefish:BootstrappedVault", {"address": bootstrap["adopt_token"]}
    )
    plain_parameter = {"type": "String", "value": Fake.DATABASE_URL}
    assert _secrets("aws:ssm/parameter:Parameter", plain_parameter)
    assert _secrets("aws:ssm/parameter:Parameter", {**plain_parameter, "type": "SecureString"}) == []


# --- Tags ------------------------------------------------------------------------------------------------


def test_a_taggable_resource_without_any_tags_is_reported_and_untaggable_ones_are_not():
    assert check_resource("required-tags", "aws:kms/key:Key", {}) == [
        "missing required tags: Environment, Project, Component, DeployedBy"
    ]
    assert check_resource("required-tags", "aws:ec2/route:Route", {"destinationCidrBlock": "0.0.0.0/0"}) == []
    assert check_resource("required-tags", "random:index/randomPassword:RandomPassword", {"length": 32}) == []


def test_auto_scaling_group_tag_lists_are_read():
    tags = [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in PRODUCTION.items()]
    assert check_resource("required-tags", "aws:autoscaling/group:Group", {"tags": tags}) == []


@pytest.mark.parametrize("type_", sorted(KNOWN_TAGGABLE))
def test_the_known_taggable_types_really_take_tags(type_):
    module, name = type_.split(":")[1].split("/")[0], type_.split(":")[2]
    with warnings.catch_warnings():
        # Some pulumi_aws modules warn at import about deprecated resources this project does not use.
        warnings.simplefilter("ignore", DeprecationWarning)
        python_module = "lambda_" if module == "lambda" else module  # `lambda` is a Python keyword
        resource_class = getattr(importlib.import_module(f"pulumi_aws.{python_module}"), name)
    assert hasattr(resource_class, "tags")


def test_seeds_are_required_only_once_there_is_a_vault_and_a_value():
    secret = catalog_secret("mongodb", "database", 90)
    assert (
        check_stack("catalog-secret-seeded", [secret, *seeds("mongodb", vault=False)]) == []
    )  # no Vault yet
    assert (
        check_stack("catalog-secret-seeded", [secret, VAULT_COMPONENT]) == []
    )  # no value: the catalog warns
    named = Res(
        "pulumi-python:dynamic:Resource",
        "mongodb-kv",
        {"secretName": "candlefish/production/mongodb", "vaultPath": "secret/candlefish/mongodb"},
    )
    assert check_stack("catalog-secret-seeded", [secret, *seeds("mongodb", vault=False), named]) == []


def test_the_rule_list_in_policies_rules_md_is_current():
    assert (ROOT / "policies" / "RULES.md").read_text() == rule_table(), "run: python -m tools.policy_runner"


def test_the_readme_example_policy_config_is_valid():
    readme = (ROOT / "README.md").read_text()
    example = json.loads(readme.split("```json\n", 1)[1].split("```", 1)[0])
    check_config(example, ALL_POLICIES)


def test_an_untagged_sse_s3_bucket_whose_policy_is_unknown_cannot_be_decided_at_preview():
    stack = [bucket("logs"), sse("logs", "AES256"), bucket_policy("logs", UNKNOWN)]
    with pytest.raises(UnknownValueError):
        check_stack("s3-bucket-sse-kms", stack)


@pytest.mark.parametrize(
    ("policy", "allowed"),
    [
        ("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", True),
        ("ELBSecurityPolicy-TLS13-1-3-2021-06", True),
        ("ELBSecurityPolicy-FS-1-2-Res-2020-10", True),
        ("ELBSecurityPolicy-TLS13-1-1-2021-06", False),
        ("ELBSecurityPolicy-FS-1-1-2019-08", False),
        ("ELBSecurityPolicy-2016-08", False),
    ],
)
def test_tls_policies_are_allowed_by_family(policy, allowed):
    found = check_resource(
        "lb-listener-tls-policy", "aws:lb/listener:Listener", {"protocol": "HTTPS", "sslPolicy": policy}
    )
    assert (found == []) is allowed


def test_public_pem_blocks_paths_and_arns_are_not_secret_material():
    request = (
        "-----BEGIN CERTIFICATE REQUEST-----\nMIICvDCCAaQCAQAwdzELMAkGA1UEBhMCVVMxDTALBgNVBAgMBFV0YWgx\n"
        "-----END CERTIFICATE REQUEST-----"
    )
    policy = document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::127311923021:root"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::candlefish-production-alb-logs-1234/vault-alb/AWSLogs/123456789012/*",
        }
    )
    assert _secrets("tls:index/locallySignedCert:LocallySignedCert", {"certRequestPem": request}) == []
    assert _secrets("aws:s3/bucketPolicy:BucketPolicy", {"policy": policy}) == []


def test_secrets_inside_gzipped_user_data_and_aws_secret_keys_are_found():
    script = ("#!/bin/bash\nexport AWS_SECRET_ACCESS_KEY_VALUE=none\nDB=" + Fake.DATABASE_URL + "\n").encode()
    user_data = base64.b64encode(gzip.compress(script)).decode()
    found = _secrets("aws:ec2/launchTemplate:LaunchTemplate", {"userData": user_data})
    assert found and "a connection string with a password" in found[0]
    secret_key = "wJalr" + "XUtnFEMI/K7MDENG/bPxRfiCY" + "Q2rSt8dEx9"  # 40 characters of key alphabet
    assert "an AWS secret access key" in _secrets("aws:ec2/vpc:Vpc", {"tags": {"Note": secret_key}})[0]


def test_every_rule_is_tagged_first_with_the_category_of_its_module():
    # Each rule module declares its category; the pack's metadata carries it as the rule's first tag.
    from pulumi_policy.policy import Policy

    seen = set()
    for module_name in (
        "break_glass", "code_signing", "encryption", "exposure", "hardening", "identity", "internet_facing",
        "recovery_shares", "secrets_material", "tags", "vault", "vault_version",
    ):  # fmt: skip
        module = importlib.import_module(f"policies.rules.{module_name}")
        for policy in (value for value in vars(module).values() if isinstance(value, Policy)):
            if policy.name in seen:
                continue  # imported into another rule module
            assert policy.tags and policy.tags[0] == module.CATEGORY, (policy.name, policy.tags)
            seen.add(policy.name)
    assert seen == {policy.name for policy in ALL_POLICIES}
