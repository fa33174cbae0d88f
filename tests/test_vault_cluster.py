"""The VaultCluster component as the production and dev stacks (and their variants) record it."""

import functools
import json
import math
from pathlib import Path

import pulumi
import pytest
import requests

from components.vault import userdata
from components.vault.cluster import DEV_MODE_WARNING, rolling_min_healthy_percentage
from components.vault.iam import NodeGrants, node_policy
from components.vault.launch_template import instance_architecture
from components.vault.load_balancer import BOOTSTRAP_HEALTH_CHECK_PATH, HEALTH_CHECK_PATH, SSL_POLICY
from tests.support.iam_lint import findings
from tests.support.mocks import run_program
from tests.support.shell_lint import shellcheck
from tests.support.vault_proxy import FaultProxy

ZONES = {"us-east-1a", "us-east-1b", "us-east-1c"}
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
NS = "candlefish-secrets"


def asg(recording):
    return recording.one("aws:autoscaling/group:Group")


def launch_template(recording):
    return recording.one("aws:ec2/launchTemplate:LaunchTemplate")


@functools.cache
def parse_user_data(encoded):
    """The cloud-config in recorded user-data (JSON, which cloud-init reads as YAML; see test_userdata)."""
    header, _, body = userdata.decode_user_data(encoded).partition("\n")
    assert header == "#cloud-config"
    return json.loads(body)


def cloud_config(recording):
    return parse_user_data(launch_template(recording).inputs["userData"])


def node_file(recording, path):
    return next(f["content"] for f in cloud_config(recording)["write_files"] if f["path"] == path)


def private_subnet_zones(recording):
    return {
        s.id: s.inputs["availabilityZone"]
        for s in recording.of_type("aws:ec2/subnet:Subnet")
        if s.inputs["tags"]["Tier"] == "private"
    }


def output_of(recording, type_, name, key="arn"):
    return recording.one(type_, name).outputs[key]


# --- the Auto Scaling group ---------------------------------------------------------------------------------


def test_five_nodes_across_the_three_private_subnets(production):
    group = asg(production)
    assert (group.inputs["minSize"], group.inputs["maxSize"], group.inputs["desiredCapacity"]) == (5, 5, 5)
    zones = private_subnet_zones(production)
    assert sorted(group.inputs["vpcZoneIdentifiers"]) == sorted(zones)
    assert set(zones.values()) == ZONES


def test_nodes_are_spread_over_racks_and_launched_by_the_dedicated_service_linked_role(production):
    placement = production.one("aws:ec2/placementGroup:PlacementGroup")
    assert placement.inputs["strategy"] == "spread"
    assert asg(production).inputs["placementGroup"] == placement.inputs["name"]
    role = production.one("aws:iam/serviceLinkedRole:ServiceLinkedRole")
    assert asg(production).inputs["serviceLinkedRoleArn"] == role.outputs["arn"]


def test_only_ec2_health_replaces_nodes_and_the_load_balancer_only_routes(production):
    group = asg(production)
    assert group.inputs["healthCheckType"] == "EC2"
    serving = production.one("aws:lb/targetGroup:TargetGroup", "vault-nodes")
    bootstrap = production.one("aws:lb/targetGroup:TargetGroup", "vault-bootstrap-nodes")
    assert group.inputs["targetGroupArns"] == [serving.outputs["arn"], bootstrap.outputs["arn"]]


def test_instance_refresh_rolls_one_node_at_a_time_on_launch_template_changes(production):
    group = asg(production)
    refresh = group.inputs["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    preferences = refresh["preferences"]
    assert preferences["minHealthyPercentage"] == 80
    assert preferences["maxHealthyPercentage"] == 100
    # The group follows the template's latest version, so a template change starts a refresh.
    template = launch_template(production)
    assert group.inputs["launchTemplate"] == {
        "id": template.id,
        "version": str(template.outputs["latestVersion"]),
    }


@pytest.mark.parametrize("size", [1, 3, 5, 7])
def test_minimum_healthy_percentage_leaves_room_for_exactly_one_replacement(size):
    # AWS rounds the minimum healthy capacity up to whole instances.
    assert math.ceil(rolling_min_healthy_percentage(size) * size / 100) == max(size - 1, 0)


def test_nodes_boot_only_after_the_network_their_identity_and_their_tls_exist(production):
    depends = set(asg(production).dependencies)
    # A node's install downloads through NAT and calls AWS through the endpoints: all must be there.
    for type_ in ("aws:ec2/route:Route", "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2/natGateway:NatGateway"):
        assert {r.urn for r in production.of_type(type_)} <= depends, type_
    for type_, name in [
        ("aws:iam/rolePolicy:RolePolicy", "vault-node-policy"),
        ("aws:secretsmanager/secretVersion:SecretVersion", "vault-tls-secret-value"),
        ("aws:secretsmanager/secretPolicy:SecretPolicy", "vault-tls-secret-policy"),
    ]:
        assert production.one(type_, name).urn in depends, name


# --- the launch template ------------------------------------------------------------------------------------


def test_launch_template_requires_imdsv2_with_one_hop_and_exposes_tags(production):
    assert launch_template(production).inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "enabled",
    }


def test_nodes_get_no_public_address_no_key_pair_and_detailed_monitoring(production):
    template = launch_template(production).inputs
    (interface,) = template["networkInterfaces"]
    assert interface["associatePublicIpAddress"] == "false"
    assert interface["securityGroups"] == [
        production.one("aws:ec2/securityGroup:SecurityGroup", "vault-nodes-sg").id
    ]
    assert "keyName" not in template
    assert template["monitoring"] == {"enabled": True}
    assert template["instanceType"] == "t3.large"


def test_root_data_and_audit_volumes_are_encrypted_gp3_with_the_data_key(production):
    data_key = output_of(production, "aws:kms/key:Key", "keys-data")
    volumes = {m["deviceName"]: m["ebs"] for m in launch_template(production).inputs["blockDeviceMappings"]}
    assert set(volumes) == {"/dev/xvda", userdata.DATA_DEVICE, userdata.AUDIT_DEVICE}
    for ebs in volumes.values():
        assert ebs["encrypted"] == "true"
        assert ebs["kmsKeyId"] == data_key
        assert ebs["volumeType"] == "gp3"
    assert volumes[userdata.DATA_DEVICE]["volumeSize"] == 100
    assert volumes[userdata.AUDIT_DEVICE]["volumeSize"] == 100


def test_nodes_carry_the_tag_auto_join_looks_for(production):
    instance = next(
        spec["tags"]
        for spec in launch_template(production).inputs["tagSpecifications"]
        if spec["resourceType"] == "instance"
    )
    assert instance["VaultCluster"] == "candlefish-production"
    assert "tag_key=VaultCluster tag_value=candlefish-production" in node_file(
        production, "/etc/vault.d/vault.hcl.template"
    )


def test_graviton_instance_types_get_arm64_images():
    assert [
        instance_architecture(t) for t in ("t3.large", "m7gd.xlarge", "t4g.small", "g5.xlarge", "c6gn.large")
    ] == [
        "x86_64",
        "arm64",
        "arm64",
        "x86_64",
        "arm64",
    ]


def test_user_data_is_rendered_with_this_stacks_resources(production):
    config = node_file(production, "/etc/vault.d/vault.hcl.template")
    assert output_of(production, "aws:kms/key:Key", "unseal-key") in config
    assert 'region     = "us-east-1"' in config
    assert "10.0.1.0/24,10.0.2.0/24,10.0.3.0/24" in config  # the internal load balancer's subnets
    fetch = node_file(production, "/usr/local/sbin/vault-fetch-tls")
    assert output_of(production, "aws:secretsmanager/secret:Secret", "vault-tls-secret") in fetch
    snapshot = node_file(production, "/usr/local/sbin/vault-snapshot")
    assert production.outputs["snapshotBucketName"] in snapshot
    assert output_of(production, "aws:kms/key:Key", "keys-data") in snapshot
    # Nodes fetch their key at boot: no key material (and nothing secret) is in the user-data.
    assert not launch_template(production).is_secret("userData")
    assert "-----BEGIN" not in userdata.decode_user_data(launch_template(production).inputs["userData"])
    agent = json.loads(node_file(production, "/etc/vault.d/cloudwatch-agent.json"))
    groups = {item["log_group_name"] for item in agent["logs"]["logs_collected"]["files"]["collect_list"]}
    assert groups == {
        production.outputs["vaultServerLogGroupName"],
        production.outputs["vaultAuditLogGroupName"],
    }


def test_recorded_user_data_scripts_are_clean_under_shellcheck(production, tmp_path):
    scripts = [f for f in cloud_config(production)["write_files"] if f["path"].startswith("/usr/local/sbin/")]
    assert len(scripts) == 4
    paths = [tmp_path / Path(script["path"]).name for script in scripts]
    for path, script in zip(paths, scripts, strict=True):
        path.write_text(script["content"])
    assert shellcheck(paths) == ""


# --- security groups ----------------------------------------------------------------------------------------


def rules(recording, type_, group_name):
    group = recording.one("aws:ec2/securityGroup:SecurityGroup", group_name)
    names = {
        g.id: g.name.removeprefix("vault-").removesuffix("-sg")
        for g in recording.of_type("aws:ec2/securityGroup:SecurityGroup")
    }
    found = set()
    for rule in recording.of_type(type_):
        inputs = rule.inputs
        if inputs["securityGroupId"] != group.id:
            continue
        assert inputs["description"], rule.name
        assert inputs["ipProtocol"] == "tcp" and inputs["fromPort"] == inputs["toPort"], rule.name
        peer = (
            inputs.get("cidrIpv4")
            or names.get(inputs.get("referencedSecurityGroupId", ""))
            or ("s3-prefix-list" if inputs.get("prefixListId", "").startswith("pl-") else None)
        )
        found.add((inputs["fromPort"], peer))
    return found


def test_node_ingress_is_exactly_the_api_from_lb_nodes_and_allow_list_and_cluster_port_from_nodes(production):
    assert rules(production, INGRESS, "vault-nodes-sg") == {
        (8200, "lb"),
        (8200, "nodes"),
        (8200, "10.0.0.0/16"),
        (8201, "nodes"),
    }


def test_node_egress_is_https_out_vault_ports_to_nodes_and_postgres_only(production):
    assert rules(production, EGRESS, "vault-nodes-sg") == {
        (443, "network-endpoints"),
        (443, "s3-prefix-list"),
        (443, "0.0.0.0/0"),
        (8200, "nodes"),
        (8201, "nodes"),
        # Added by the Database component: Vault's database engine reaches PostgreSQL, nothing else.
        (5432, "database-postgres"),
    }


def test_load_balancer_admits_the_allow_list_and_reaches_only_the_nodes_api(production):
    # 8200: the bootstrap listener, for the deploying machine (a runner inside the allow-listed networks).
    assert rules(production, INGRESS, "vault-lb-sg") == {
        (443, "10.0.0.0/16"),
        (80, "10.0.0.0/16"),
        (8200, "10.0.0.0/16"),
    }
    assert rules(production, EGRESS, "vault-lb-sg") == {(8200, "nodes")}


def test_no_rule_opens_ssh_and_groups_have_no_inline_rules(production):
    for rule in production.of_type(INGRESS) + production.of_type(EGRESS):
        assert rule.inputs["fromPort"] != 22
    for group in production.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert not group.inputs.get("ingress") and not group.inputs.get("egress")


# --- load balancer ------------------------------------------------------------------------------------------


def test_load_balancer_is_internal_hardened_and_logs_after_its_bucket_policy(production):
    lb = production.one("aws:lb/loadBalancer:LoadBalancer").inputs
    assert lb["loadBalancerType"] == "application"
    assert lb["internal"] is True
    assert sorted(lb["subnets"]) == sorted(private_subnet_zones(production))
    assert lb["dropInvalidHeaderFields"] is True
    assert lb["enableDeletionProtection"] is True
    assert lb["accessLogs"] == {
        "bucket": production.outputs["accessLogBucketName"],
        "prefix": "vault-alb",
        "enabled": True,
    }
    policy = production.one("aws:s3/bucketPolicy:BucketPolicy", "storage-alb-logs-policy")
    assert policy.urn in production.one("aws:lb/loadBalancer:LoadBalancer").dependencies


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("vault-nodes", "/v1/sys/health?standbyok=true&perfstandbyok=true"),
        ("vault-bootstrap-nodes", "/v1/sys/health?standbyok=true&perfstandbyok=true&uninitcode=200"),
    ],
)
def test_target_groups_check_vault_health_over_https_on_8200(production, name, path):
    group = production.one("aws:lb/targetGroup:TargetGroup", name).inputs
    assert (group["protocol"], group["port"], group["targetType"]) == ("HTTPS", 8200, "instance")
    check = group["healthCheck"]
    assert check["path"] == path
    assert check["matcher"] == "200"
    assert check["protocol"] == "HTTPS"
    assert group["deregistrationDelay"] <= 30


@pytest.mark.parametrize(
    ("state", "serving", "bootstrap"),
    [
        ("active", True, True),
        ("standby", True, True),
        ("uninitialised", False, True),  # a replacement node before it joins, or a new cluster
        ("sealed", False, False),
    ],
)
def test_clients_reach_only_initialised_unsealed_nodes_and_the_bootstrap_also_a_new_one(
    openbao_cluster, request, state, serving, bootstrap
):
    """The target groups' checks against real OpenBao nodes in each state (a sealed one from the fault
    proxy, whose sealed answers are checked against a really sealed server in test_vault_parity_real)."""
    leader = openbao_cluster.leader()
    verify: str | bool = openbao_cluster.ca_cert_path
    if state == "active":
        url = leader.addr
    elif state == "standby":
        url = next(node for node in openbao_cluster.nodes if node is not leader).addr
    elif state == "uninitialised":
        fresh = request.getfixturevalue("openbao_cluster_factory")(1, initialize=False)
        url, verify = fresh.addrs[0], fresh.ca_cert_path
    else:
        proxy = FaultProxy(leader.addr, ca_cert=openbao_cluster.ca_cert_path).start()
        request.addfinalizer(proxy.stop)
        proxy.sealed = True
        url, verify = proxy.url, True
    for path, healthy in ((HEALTH_CHECK_PATH, serving), (BOOTSTRAP_HEALTH_CHECK_PATH, bootstrap)):
        response = requests.get(url + path, timeout=10, verify=verify)
        assert (response.status_code == 200) is healthy, (path, response.status_code)


def listener(recording, port):
    return next(r.inputs for r in recording.of_type("aws:lb/listener:Listener") if r.inputs["port"] == port)


def test_https_listener_uses_tls_12_and_13_and_the_imported_certificate(production):
    https = listener(production, 443)
    assert https["protocol"] == "HTTPS"
    assert https["sslPolicy"] == SSL_POLICY
    assert SSL_POLICY.startswith("ELBSecurityPolicy-TLS13-1-2-")
    assert https["certificateArn"] == output_of(
        production, "aws:acm/certificate:Certificate", "vault-tls-acm"
    )
    (action,) = https["defaultActions"]
    assert action == {
        "type": "forward",
        "targetGroupArn": output_of(production, "aws:lb/targetGroup:TargetGroup", "vault-nodes"),
    }


def test_the_bootstrap_listener_on_8200_forwards_to_its_own_target_group(production):
    bootstrap = listener(production, 8200)
    assert (bootstrap["protocol"], bootstrap["sslPolicy"]) == ("HTTPS", SSL_POLICY)
    (action,) = bootstrap["defaultActions"]
    assert action == {
        "type": "forward",
        "targetGroupArn": output_of(production, "aws:lb/targetGroup:TargetGroup", "vault-bootstrap-nodes"),
    }
    lb_dns = production.one("aws:lb/loadBalancer:LoadBalancer").outputs["dnsName"]
    assert production.outputs["vaultBootstrapAddress"] == f"https://{lb_dns}:8200"
    seed = production.one("pulumi-python:dynamic/candlefish:BootstrappedVault").inputs
    assert seed["address"] == f"https://{lb_dns}:8200"


def test_http_only_redirects_to_https(production):
    http = listener(production, 80)
    assert http["protocol"] == "HTTP"
    (action,) = http["defaultActions"]
    assert action["type"] == "redirect"
    assert action["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


# --- TLS ----------------------------------------------------------------------------------------------------


def test_server_certificate_covers_the_load_balancer_the_shared_name_and_loopback(production):
    request = production.one("tls:index/certRequest:CertRequest").inputs
    lb_dns = production.one("aws:lb/loadBalancer:LoadBalancer").outputs["dnsName"]
    assert request["dnsNames"] == [lb_dns, "vault.production.candlefish.internal", "localhost"]
    assert request["ipAddresses"] == ["127.0.0.1"]
    assert request["subject"]["commonName"] == "vault.production.candlefish.internal"
    cert = production.one("tls:index/locallySignedCert:LocallySignedCert").inputs
    assert cert["validityPeriodHours"] == 365 * 24
    assert cert["earlyRenewalHours"] == 30 * 24
    assert set(cert["allowedUses"]) == {"digital_signature", "key_encipherment", "server_auth"}
    ca = production.one("tls:index/selfSignedCert:SelfSignedCert").inputs
    assert ca["isCaCertificate"] is True
    assert "cert_signing" in ca["allowedUses"]


def test_private_keys_stay_pulumi_secrets_everywhere(production):
    for key in production.of_type("tls:index/privateKey:PrivateKey"):
        assert "privateKeyPem" in key.secret_outputs
    assert production.one("tls:index/certRequest:CertRequest").is_secret("privateKeyPem")
    assert production.one("tls:index/locallySignedCert:LocallySignedCert").is_secret("caPrivateKeyPem")
    assert production.one("tls:index/selfSignedCert:SelfSignedCert").is_secret("privateKeyPem")
    assert production.one("aws:acm/certificate:Certificate").is_secret("privateKey")
    assert production.one(
        "aws:secretsmanager/secretVersion:SecretVersion", "vault-tls-secret-value"
    ).is_secret("secretString")


def test_acm_import_carries_the_ca_chain(production):
    imported = production.one("aws:acm/certificate:Certificate").inputs
    ca_pem = production.one("tls:index/selfSignedCert:SelfSignedCert").outputs["certPem"]
    assert imported["certificateChain"] == ca_pem
    assert (
        imported["certificateBody"]
        == production.one("tls:index/locallySignedCert:LocallySignedCert").outputs["certPem"]
    )


def test_tls_bundle_is_one_secret_encrypted_with_the_secrets_key(production):
    secret = production.one("aws:secretsmanager/secret:Secret", "vault-tls-secret").inputs
    assert secret["name"] == "candlefish/production/vault/tls"
    assert secret["kmsKeyId"] == output_of(production, "aws:kms/key:Key", "keys-secrets")
    assert secret["recoveryWindowInDays"] == 30
    bundle = json.loads(
        production.one("aws:secretsmanager/secretVersion:SecretVersion", "vault-tls-secret-value").inputs[
            "secretString"
        ]
    )
    assert set(bundle) == {"certificate", "private_key", "ca_certificate"}
    assert bundle["ca_certificate"] == production.outputs["vaultCaCertificate"]


def test_only_the_node_role_may_read_the_tls_bundle(production):
    policy = production.one("aws:secretsmanager/secretPolicy:SecretPolicy", "vault-tls-secret-policy")
    assert policy.inputs["blockPublicPolicy"] is True
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    role = output_of(production, "aws:iam/role:Role", "vault-node-role")
    allow = statements["VaultNodesReadTheBundle"]
    assert (allow["Effect"], allow["Principal"], allow["Action"]) == (
        "Allow",
        {"AWS": role},
        "secretsmanager:GetSecretValue",
    )
    deny = statements["NobodyElseReadsTheBundle"]
    assert deny["Effect"] == "Deny"
    # ArnNotLike: configured deployer principals (deployerPrincipals) may be name patterns.
    assert deny["Condition"] == {
        "ArnNotLike": {"aws:PrincipalArn": [role, "arn:aws:iam::123456789012:role/deployer"]}
    }
    assert findings(policy.inputs["policy"], resource_policy=True) == []


def test_only_the_deployers_may_change_the_tls_bundle(production):
    """Nodes load the certificate and key from the secret at every boot and reload: nobody else may swap
    the value, move its stages, change its settings or its resource policy."""
    policy = production.one("aws:secretsmanager/secretPolicy:SecretPolicy", "vault-tls-secret-policy")
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    deny = statements["NobodyButTheDeployersChangeTheBundle"]
    assert (deny["Effect"], deny["Principal"], deny["Resource"]) == ("Deny", "*", "*")
    assert set(deny["Action"]) == {
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecret",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:DeleteResourcePolicy",
    }
    assert deny["Condition"] == {
        "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::123456789012:role/deployer"]}
    }
    assert set(statements) == {
        "VaultNodesReadTheBundle",
        "NobodyElseReadsTheBundle",
        "NobodyButTheDeployersChangeTheBundle",
    }


# --- IAM ----------------------------------------------------------------------------------------------------


def node_statements(recording):
    document = json.loads(
        recording.one("aws:iam/rolePolicy:RolePolicy", "vault-node-policy").inputs["policy"]
    )
    return {s["Sid"]: s for s in document["Statement"]}, document


def test_node_policy_grants_each_need_on_its_resource_only(production):
    found, _ = node_statements(production)
    unseal = output_of(production, "aws:kms/key:Key", "unseal-key")
    bucket = production.one("aws:s3/bucket:Bucket", "storage-snapshots").outputs["arn"]
    secret = output_of(production, "aws:secretsmanager/secret:Secret", "vault-tls-secret")
    assert found["UnsealWithKms"]["Resource"] == [unseal]
    assert sorted(found["UnsealWithKms"]["Action"]) == ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"]
    assert found["DiscoverRaftPeers"] == {
        "Sid": "DiscoverRaftPeers",
        "Effect": "Allow",
        "Action": "ec2:DescribeInstances",
        "Resource": "*",
    }
    assert found["ReadTlsBundle"]["Resource"] == [secret]
    assert found["UploadRaftSnapshots"]["Action"] == "s3:PutObject"
    assert found["UploadRaftSnapshots"]["Resource"] == [f"{bucket}/raft-snapshots/*"]
    assert found["EncryptRaftSnapshots"]["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:s3:arn": [bucket]
    }
    assert found["PublishVaultMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "Candlefish/Vault"}
    }
    groups = [
        output_of(production, "aws:cloudwatch/logGroup:LogGroup", f"vault-{kind}-logs")
        for kind in ("server", "audit")
    ]
    assert found["ShipVaultLogs"]["Resource"] == [*groups, *[f"{g}:log-stream:*" for g in groups]]
    # Nothing may delete: not objects, not keys, not secrets.
    actions = [
        a for s in found.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert not [a for a in actions if "Delete" in a or a.endswith("*")]


# Accepted parliament findings on the node policy, each for a reason.
NODE_POLICY_ACCEPTED = {
    # kms:EncryptionContext:aws:s3:arn is how S3 documents scoping SSE-KMS use to one bucket.
    "UNKNOWN_CONDITION_FOR_ACTION": "S3's documented SSE-KMS encryption context key",
}


def test_node_policy_is_clean_under_parliament(production):
    _, document = node_statements(production)
    assert findings(document, accepted=NODE_POLICY_ACCEPTED) == []


def test_node_policy_built_from_plain_values_is_clean_too():
    grants = NodeGrants(
        region="eu-west-1",
        account_id="123456789012",
        partition="aws",
        unseal_key_arn="arn:aws:kms:eu-west-1:123456789012:key/1",
        tls_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:tls-AbCdEf",
        secrets_key_arn="arn:aws:kms:eu-west-1:123456789012:key/2",
        data_key_arn="arn:aws:kms:eu-west-1:123456789012:key/3",
        snapshot_bucket_arn="arn:aws:s3:::snapshots",
        snapshot_prefix="raft-snapshots/",
        log_group_arns=["arn:aws:logs:eu-west-1:123456789012:log-group:/a"],
    )
    assert findings(node_policy(grants), accepted=NODE_POLICY_ACCEPTED) == []


def test_node_role_is_for_ec2_with_session_manager_and_an_instance_profile(production):
    role = production.one("aws:iam/role:Role", "vault-node-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "ec2.amazonaws.com"}]
    ssm = production.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "vault-node-ssm")
    assert ssm.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    profile = production.one("aws:iam/instanceProfile:InstanceProfile")
    assert profile.inputs["role"] == role.outputs["name"]
    assert launch_template(production).inputs["iamInstanceProfile"] == {"arn": profile.outputs["arn"]}


# --- log groups and outputs ---------------------------------------------------------------------------------


def test_server_and_audit_log_groups_are_encrypted_and_kept_as_configured(production):
    logs_key = output_of(production, "aws:kms/key:Key", "keys-logs")
    server = production.one("aws:cloudwatch/logGroup:LogGroup", "vault-server-logs").inputs
    audit = production.one("aws:cloudwatch/logGroup:LogGroup", "vault-audit-logs").inputs
    assert (server["name"], server["retentionInDays"]) == ("/candlefish/production/vault/server", 365)
    assert (audit["name"], audit["retentionInDays"]) == ("/candlefish/production/vault/audit", 365)
    assert server["kmsKeyId"] == audit["kmsKeyId"] == logs_key


def test_stack_outputs_name_what_clients_and_monitoring_need(production):
    outputs = production.outputs
    lb = production.one("aws:lb/loadBalancer:LoadBalancer").outputs
    assert outputs["vaultAddress"] == f"https://{lb['dnsName']}"
    assert (
        outputs["vaultCaCertificate"]
        == production.one("tls:index/selfSignedCert:SelfSignedCert").outputs["certPem"]
    )
    assert outputs["vaultAutoScalingGroupName"] == "candlefish-production-vault"
    assert (
        outputs["vaultNodeSecurityGroupId"]
        == production.one("aws:ec2/securityGroup:SecurityGroup", "vault-nodes-sg").id
    )
    assert outputs["vaultNodeRoleArn"] == output_of(production, "aws:iam/role:Role", "vault-node-role")
    assert outputs["vaultLoadBalancerArnSuffix"] == lb["arnSuffix"]
    assert outputs["vaultTargetGroupArnSuffix"].startswith("targetgroup/")
    assert outputs["vaultMode"] == "cluster"


# --- dev stack and variants ---------------------------------------------------------------------------------


def test_dev_stack_is_smaller_and_cheaper(dev):
    group = asg(dev).inputs
    assert (group["minSize"], group["maxSize"], group["desiredCapacity"]) == (3, 3, 3)
    assert group["instanceRefresh"]["preferences"]["minHealthyPercentage"] == 66
    template = launch_template(dev).inputs
    assert template["instanceType"] == "t3.small"
    assert {
        m["ebs"]["volumeSize"] for m in template["blockDeviceMappings"] if m["deviceName"] != "/dev/xvda"
    } == {10}
    assert dev.one("aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is False
    assert dev.one("aws:secretsmanager/secret:Secret", "vault-tls-secret").inputs["recoveryWindowInDays"] == 7
    assert dev.one("aws:cloudwatch/logGroup:LogGroup", "vault-server-logs").inputs["retentionInDays"] == 14


@pytest.fixture(scope="module")
def dev_mode():
    return run_program("dev", overrides={f"{NS}:enableDevMode": True})


@pytest.mark.slow
def test_dev_mode_is_one_in_memory_node_loudly_marked(dev_mode):
    group = asg(dev_mode).inputs
    assert (group["minSize"], group["maxSize"], group["desiredCapacity"]) == (1, 1, 1)
    instance_tags = next(
        s["tags"]
        for s in launch_template(dev_mode).inputs["tagSpecifications"]
        if s["resourceType"] == "instance"
    )
    assert instance_tags["VaultMode"] == "dev-in-memory"
    assert dev_mode.outputs["vaultMode"] == "dev"
    assert DEV_MODE_WARNING in dev_mode.warnings
    config = node_file(dev_mode, "/etc/vault.d/vault.hcl.template")
    assert config.startswith("# DEV MODE") and 'storage "inmem"' in config
    devices = {m["deviceName"] for m in launch_template(dev_mode).inputs["blockDeviceMappings"]}
    assert userdata.DATA_DEVICE not in devices
    assert not any(f["path"].endswith("vault-snapshot") for f in cloud_config(dev_mode)["write_files"])


@pytest.mark.slow
def test_production_refuses_dev_mode():
    with pytest.raises(pulumi.RunError, match="enableDevMode"):
        run_program("production", overrides={f"{NS}:enableDevMode": True})


@pytest.fixture(scope="module")
def brought_certificate():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
    return arn, run_program("production", overrides={f"{NS}:acmCertificateArn": arn})


@pytest.mark.slow
def test_a_brought_acm_certificate_replaces_the_import_on_the_listener(brought_certificate):
    arn, recording = brought_certificate
    assert listener(recording, 443)["certificateArn"] == arn
    # The node certificate is still imported, only so that its expiry is watched.
    (imported,) = recording.of_type("aws:acm/certificate:Certificate")
    assert imported.inputs["tags"]["Purpose"] == "expiry-monitoring"
    assert imported.outputs["arn"] != arn


@pytest.fixture(scope="module")
def internet_facing():
    return run_program(
        "dev",
        overrides={f"{NS}:loadBalancerScheme": "internet-facing", f"{NS}:allowedCidrs": ["198.51.100.0/24"]},
    )


@pytest.mark.slow
def test_an_internet_facing_balancer_sits_in_the_public_subnets_and_admits_only_the_allow_list(
    internet_facing,
):
    lb = internet_facing.one("aws:lb/loadBalancer:LoadBalancer").inputs
    assert lb["internal"] is False
    public = {
        s.id for s in internet_facing.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["Tier"] == "public"
    }
    assert set(lb["subnets"]) == public
    assert rules(internet_facing, INGRESS, "vault-lb-sg") == {
        (443, "198.51.100.0/24"),
        (80, "198.51.100.0/24"),
        (8200, "198.51.100.0/24"),
    }
    # The nodes stay private; Vault trusts X-Forwarded-For from the public subnets where the balancer is.
    assert "10.20.101.0/24,10.20.102.0/24,10.20.103.0/24" in node_file(
        internet_facing, "/etc/vault.d/vault.hcl.template"
    )
    assert set(asg(internet_facing).inputs["vpcZoneIdentifiers"]) == set(
        private_subnet_zones(internet_facing)
    )


def test_a_newer_image_does_not_roll_the_nodes_until_one_is_pinned(production):
    template = production.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert "imageId" in template.ignore_changes
    pinned = run_program("production", overrides={"candlefish-secrets:vaultAmiId": "ami-0123456789abcdef0"})
    template = pinned.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert "imageId" not in template.ignore_changes
