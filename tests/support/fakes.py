"""Realistic, deterministic identifiers and outputs for resources created under the recording mocks.

Ids, ARNs and DNS names have the shapes AWS gives them (`vpc-0…`, `arn:aws:kms:…:key/<uuid>`,
`…elb.amazonaws.com`) and are derived from the resource's type and name, so two runs of the same
program produce the same plan and tools can follow references between resources by id or ARN.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ACCOUNT_ID = "123456789012"  # AWS's documentation example account
PARTITION = "aws"

# Resource-id prefixes EC2 and friends use.
ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/route:Route": "r-rtb-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ec2/placementGroup:PlacementGroup": "pg-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
    "aws:cloudhsmv2/cluster:Cluster": "cluster-",
    "aws:cloudhsmv2/hsm:Hsm": "hsm-",
    "aws:kms/customKeyStore:CustomKeyStore": "cks-",
}


def digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]


def fake_uuid(*parts: str) -> str:
    return str(uuid.UUID(hex=digest(*parts, length=32)))


def physical_name(name: str, inputs: Mapping[str, Any], field: str = "name") -> str:
    """The given physical name, or Pulumi's auto-name: the logical name plus a 7-character suffix."""
    given = inputs.get(field)
    return str(given) if isinstance(given, str) and given else f"{name}-{digest(name, length=7)}"


def _arn(service: str, region: str, resource: str, *, regional: bool = True, account: bool = True) -> str:
    return (
        f"arn:{PARTITION}:{service}:{region if regional else ''}:{ACCOUNT_ID if account else ''}:{resource}"
    )


State = dict[str, Any]
Shaper = Callable[[str, Mapping[str, Any], str, str], State]


def _kms_key(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    return {"keyId": rid, "arn": _arn("kms", region, f"key/{rid}")}


def _kms_alias(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    alias = inputs.get("name", f"alias/{name}")
    return {
        "arn": _arn("kms", region, str(alias)),
        "targetKeyArn": _arn("kms", region, f"key/{fake_uuid(name)}"),
    }


def _iam_role(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    role = physical_name(name, inputs)
    return {
        "name": role,
        "arn": _arn("iam", region, f"role/{role}", regional=False),
        "uniqueId": f"AROA{digest(name)}",
    }


def _service_linked_role(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    service = str(inputs.get("awsServiceName", "service.amazonaws.com"))
    base = "AWSServiceRoleForAutoScaling" if service.startswith("autoscaling") else f"AWSServiceRoleFor{name}"
    role = f"{base}_{inputs['customSuffix']}" if inputs.get("customSuffix") else base
    return {
        "name": role,
        "arn": _arn("iam", region, f"role/aws-service-role/{service}/{role}", regional=False),
    }


def _instance_profile(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    profile = physical_name(name, inputs)
    return {"name": profile, "arn": _arn("iam", region, f"instance-profile/{profile}", regional=False)}


def _log_group(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    group = physical_name(name, inputs)
    return {"name": group, "arn": _arn("logs", region, f"log-group:{group}")}


def _secret(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    secret = physical_name(name, inputs)
    arn = _arn("secretsmanager", region, f"secret:{secret}-{digest(name, length=6)}")
    return {"name": secret, "arn": arn, "id": arn}


def _bucket(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    bucket = physical_name(name, inputs, "bucket")
    return {
        "bucket": bucket,
        "arn": f"arn:{PARTITION}:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
        "region": region,
    }


def _load_balancer(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    lb = physical_name(name, inputs)[:32]
    suffix = f"app/{lb}/{digest(name, length=16)}"
    scheme = "internal-" if inputs.get("internal") else ""
    return {
        "name": lb,
        "arn": _arn("elasticloadbalancing", region, f"loadbalancer/{suffix}"),
        "arnSuffix": suffix,
        "dnsName": f"{scheme}{lb}-{int(digest(name, length=8), 16) % 10**10}.{region}.elb.amazonaws.com",
        "zoneId": "Z35SXDOTRQ7X7K",
    }


def _target_group(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    group = physical_name(name, inputs)[:32]
    suffix = f"targetgroup/{group}/{digest(name, length=16)}"
    return {"name": group, "arn": _arn("elasticloadbalancing", region, suffix), "arnSuffix": suffix}


def _db_instance(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    ident = physical_name(name, inputs, "identifier")
    address = f"{ident}.c{digest(name, length=11)}.{region}.rds.amazonaws.com"
    return {
        "identifier": ident,
        "arn": _arn("rds", region, f"db:{ident}"),
        "address": address,
        "endpoint": f"{address}:{inputs.get('port', 5432)}",
        "resourceId": f"db-{digest(name, length=26).upper()}",
        "masterUserSecrets": [
            {"secretArn": _arn("secretsmanager", region, f"secret:rds!db-{fake_uuid(name)}")}
        ],
    }


def _replication_group(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    group = str(inputs.get("replicationGroupId") or name)
    host = f"master.{group}.{digest(name, length=6)}.use1.cache.amazonaws.com"
    return {
        "arn": _arn("elasticache", region, f"replicationgroup:{group}"),
        "primaryEndpointAddress": host,
        "readerEndpointAddress": host.replace("master.", "replica."),
    }


def _topic(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    topic = physical_name(name, inputs)
    return {"name": topic, "arn": _arn("sns", region, topic)}


def _function(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    function = physical_name(name, inputs)
    arn = _arn("lambda", region, f"function:{function}")
    return {
        "name": function,
        "arn": arn,
        "invokeArn": arn,
        "qualifiedArn": f"{arn}:$LATEST",
        "version": "$LATEST",
    }


def _secret_version(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    # The version's ARN is its secret's ARN; the id joins the secret and a version UUID.
    version = fake_uuid("version", name)
    secret = str(inputs.get("secretId", ""))
    return {"arn": secret, "versionId": version, "id": f"{secret}|{version}"}


def _topic_subscription(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    topic = str(inputs.get("topic", _arn("sns", region, name)))
    pending = inputs.get("protocol") in ("email", "email-json")
    return {"arn": f"{topic}:{fake_uuid('subscription', name)}", "pendingConfirmation": pending}


def _dashboard(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    dashboard = physical_name(name, inputs, "dashboardName")
    return {"dashboardArn": _arn("cloudwatch", region, f"dashboard/{dashboard}", regional=False)}


def _query_definition(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    return {"queryDefinitionId": fake_uuid("query", name)}


def _table(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    return {"arn": _arn("dynamodb", region, f"table/{physical_name(name, inputs)}")}


def _function_url(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    return {"functionUrl": f"https://{digest('url', name, length=32)}.lambda-url.{region}.on.aws/"}


def _schedule_group(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    return {"arn": _arn("scheduler", region, f"schedule-group/{physical_name(name, inputs)}")}


def _vpc_endpoint(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    state: State = {"arn": _arn("ec2", region, f"vpc-endpoint/{rid}")}
    if inputs.get("vpcEndpointType") == "Gateway":
        state["prefixListId"] = "pl-0" + digest("prefix-list", name, length=16)
    return state


def _content(value: Any) -> str:
    """What an uploaded archive holds, independent of where the checkout is: paths in it and file digests."""
    assets = getattr(value, "assets", None)
    if not isinstance(assets, Mapping):
        return str(value)
    parts = []
    for key in sorted(assets):
        path = getattr(assets[key], "path", None)
        data = Path(path).read_bytes() if path else str(getattr(assets[key], "text", "")).encode()
        parts.append(f"{key}:{hashlib.sha256(data).hexdigest()}")
    return ",".join(parts)


def _bucket_object(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    # A versioned bucket gives each upload a version id (32 characters): new content, new version.
    return {"versionId": digest("version", name, _content(inputs.get("source")), length=32)}


def _signing_profile(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    # With a name prefix, the provider appends a 26-digit unique suffix; the version is 10 characters.
    profile = str(inputs.get("name") or f"{inputs.get('namePrefix', '')}{int(digest(name), 16):026d}"[:64])
    version = digest("profile-version", name, length=10)
    arn = _arn("signer", region, f"/signing-profiles/{profile}")
    return {"name": profile, "arn": arn, "version": version, "versionArn": f"{arn}/{version}"}


def _signing_job(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    # Signer writes `<prefix><job id>.zip` into the destination bucket.
    job = fake_uuid("signing-job", name)
    destination = dict(dict(inputs.get("destination") or {}).get("s3") or {})
    signed = {"bucket": destination.get("bucket"), "key": f"{destination.get('prefix', '')}{job}.zip"}
    return {"jobId": job, "status": "Succeeded", "signedObjects": [{"s3s": [signed]}]}


def _code_signing_config(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
    config = "csc-0" + digest("csc", name, length=16)
    return {"configId": config, "arn": _arn("lambda", region, f"code-signing-config:{config}")}


def _generic(service: str, kind: str, sep: str = "/") -> Shaper:
    def shape(name: str, inputs: Mapping[str, Any], region: str, rid: str) -> State:
        return {"arn": _arn(service, region, f"{kind}{sep}{rid}")}

    return shape


SHAPERS: dict[str, Shaper] = {
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": _service_linked_role,
    "aws:iam/instanceProfile:InstanceProfile": _instance_profile,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:rds/instance:Instance": _db_instance,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:sns/topic:Topic": _topic,
    "aws:lambda/function:Function": _function,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:sns/topicSubscription:TopicSubscription": _topic_subscription,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:cloudwatch/queryDefinition:QueryDefinition": _query_definition,
    "aws:dynamodb/table:Table": _table,
    "aws:lambda/functionUrl:FunctionUrl": _function_url,
    "aws:scheduler/scheduleGroup:ScheduleGroup": _schedule_group,
    "aws:s3/bucketObjectv2:BucketObjectv2": _bucket_object,
    "aws:signer/signingProfile:SigningProfile": _signing_profile,
    "aws:signer/signingJob:SigningJob": _signing_job,
    "aws:lambda/codeSigningConfig:CodeSigningConfig": _code_signing_config,
    "aws:ec2/vpc:Vpc": _generic("ec2", "vpc"),
    "aws:ec2/subnet:Subnet": _generic("ec2", "subnet"),
    "aws:ec2/securityGroup:SecurityGroup": _generic("ec2", "security-group"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _generic("ec2", "security-group"),
    "aws:ec2/internetGateway:InternetGateway": _generic("ec2", "internet-gateway"),
    "aws:ec2/natGateway:NatGateway": _generic("ec2", "natgateway"),
    "aws:ec2/routeTable:RouteTable": _generic("ec2", "route-table"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:ec2/flowLog:FlowLog": _generic("ec2", "vpc-flow-log"),
    "aws:ec2/launchTemplate:LaunchTemplate": _generic("ec2", "launch-template"),
    "aws:ec2/placementGroup:PlacementGroup": _generic("ec2", "placement-group"),
    "aws:cloudhsmv2/cluster:Cluster": _generic("cloudhsm", "cluster"),
    "aws:acm/certificate:Certificate": _generic("acm", "certificate"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _generic("cloudwatch", "alarm", ":"),
}


def resource_id(type_: str, name: str, inputs: Mapping[str, Any]) -> str:
    """The id AWS would assign: prefixed hex for EC2-style resources, a UUID for keys, else the name."""
    if type_ in ID_PREFIXES:
        return ID_PREFIXES[type_] + "0" + digest(type_, name, length=16)
    if type_ == "aws:kms/key:Key":
        return fake_uuid(type_, name)
    if type_ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return physical_name(name, inputs)
    if type_ == "aws:s3/bucket:Bucket":
        return physical_name(name, inputs, "bucket")  # a bucket's id is its name
    return physical_name(name, inputs) if type_.startswith("aws:") else f"{name}-id"


def outputs_for(type_: str, name: str, inputs: Mapping[str, Any], region: str) -> tuple[str, State]:
    """The id and the output state the provider would report after creating the resource."""
    # pulumi-aws v7 resources may name their own region; their ARNs then carry it.
    region = str(inputs.get("region") or region)
    rid = resource_id(type_, name, inputs)
    state: State = dict(inputs)
    shaper = SHAPERS.get(type_)
    if shaper is not None:
        state.update(shaper(name, inputs, region, rid))
    elif type_.startswith("aws:"):
        module = type_.split(":")[1].split("/", maxsplit=1)[0]
        state.setdefault("arn", _arn(module, region, f"{name}/{rid}"))
    state.update(_extra_outputs(type_, name, inputs, rid))
    state.setdefault("id", rid)
    return rid, state


def _extra_outputs(type_: str, name: str, inputs: Mapping[str, Any], rid: str) -> State:
    """Outputs that are not ARNs: generated values of random/tls resources, ids other resources use."""
    if type_ == "aws:ec2/eip:Eip":
        octets = bytes.fromhex(digest(name, length=4))
        return {"allocationId": rid, "publicIp": f"203.0.{octets[0]}.{octets[1]}"}
    if type_ == "aws:ec2/launchTemplate:LaunchTemplate":
        return {"latestVersion": 1, "defaultVersion": 1}
    if type_ == "aws:cloudhsmv2/cluster:Cluster":
        return {"clusterId": rid, "clusterState": "UNINITIALIZED"}
    if type_ == "random:index/randomPassword:RandomPassword":
        return {"result": "example-not-a-secret-" + digest(name, length=11), "bcryptHash": "example-hash"}
    if type_ == "random:index/randomId:RandomId":
        return {
            "hex": digest(name, length=2 * int(inputs.get("byteLength", 8))),
            "b64Std": "ZXhhbXBsZS1ub3QtYS1rZXk=",
        }
    if type_ == "tls:index/privateKey:PrivateKey":
        return {
            "privateKeyPem": _pem("EXAMPLE-NOT-A-KEY", name),
            "publicKeyPem": _pem("PUBLIC KEY", name),
            "publicKeyOpenssh": "ssh-ed25519 ZXhhbXBsZQ== example",
        }
    if type_ == "tls:index/certRequest:CertRequest":
        return {"certRequestPem": _pem("CERTIFICATE REQUEST", name)}
    if type_ in ("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"):
        return {"certPem": _pem("CERTIFICATE", name), "validityEndTime": "2027-01-01T00:00:00Z"}
    return {}


def _pem(label: str, name: str) -> str:
    """An obviously fake PEM block, distinct per resource so tests can tell certificates apart."""
    body = base64.b64encode(f"example-not-real {name}".encode()).decode()
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


# Amazon Linux 2023 and Ubuntu images as getAmi answers for their owners.
AMI_ROOT_DEVICES = {"amazon": "/dev/xvda", "099720109477": "/dev/sda1"}


def ami(args: Mapping[str, Any]) -> dict[str, Any]:
    owner = str((args.get("owners") or ["amazon"])[0])
    filters = {f["name"]: f["values"] for f in args.get("filters") or []}
    architecture = (filters.get("architecture") or ["x86_64"])[0]
    pattern = (filters.get("name") or ["image-*"])[0]
    return {
        "id": "ami-0" + digest(str(args.get("filters")), length=16),
        "name": pattern.replace("*", "20261101.0", 1).replace("*", "1"),
        "architecture": architecture,
        "ownerId": "137112412989" if owner == "amazon" else owner,
        "rootDeviceName": AMI_ROOT_DEVICES.get(owner, "/dev/xvda"),
        "rootDeviceType": "ebs",
        "virtualizationType": "hvm",
    }


def managed_prefix_list(name: str, region: str) -> dict[str, Any]:
    """The AWS-managed prefix list of a gateway endpoint service (`com.amazonaws.<region>.s3`)."""
    return {
        "id": "pl-0" + digest(name, length=7),
        "name": name,
        "arn": f"arn:{PARTITION}:ec2:{region}:aws:prefix-list/pl-0{digest(name, length=7)}",
        "addressFamily": "IPv4",
        "maxEntries": 0,
        "ownerId": "AWS",
    }


def session_context(arn: str) -> dict[str, Any]:
    """The IAM role behind an assumed-role session ARN (an IAM user's ARN is its own issuer)."""
    issuer = arn
    if ":assumed-role/" in arn:
        account = arn.split(":")[4]
        role = arn.split(":assumed-role/", 1)[1].split("/", maxsplit=1)[0]
        issuer = f"arn:{PARTITION}:iam::{account}:role/{role}"
    return {"arn": arn, "issuerArn": issuer, "issuerName": issuer.rsplit("/", 1)[-1], "id": arn}


def policy_document(args: Mapping[str, Any]) -> dict[str, Any]:
    """Render `aws.iam.get_policy_document` arguments into the JSON AWS would receive."""
    rendered = []
    for item in args.get("statements") or []:
        body: dict[str, Any] = {}
        if item.get("sid"):
            body["Sid"] = item["sid"]
        body["Effect"] = item.get("effect", "Allow")
        for key, field in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if item.get(key):
                body[field] = {p["type"]: p["identifiers"] for p in item[key]}
        for key, field in (("actions", "Action"), ("notActions", "NotAction")):
            if item.get(key):
                body[field] = item[key]
        for key, field in (("resources", "Resource"), ("notResources", "NotResource")):
            if item.get(key):
                body[field] = item[key]
        if item.get("conditions"):
            condition: dict[str, dict[str, Any]] = {}
            for cond in item["conditions"]:
                condition.setdefault(cond["test"], {})[cond["variable"]] = cond["values"]
            body["Condition"] = condition
        rendered.append(body)
    return {"json": json.dumps({"Version": "2012-10-17", "Statement": rendered}), "id": digest(str(args))}
