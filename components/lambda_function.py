"""A Lambda function of this project with its own KMS-encrypted log group and a least-privilege role.

Every function here is packaged from `lambdas/` alone (the code depends only on what the Python runtime
ships), logs to a log group created before it with the stack's retention and the logs key, and gets a role
that may write to that log group and do what its inline statements say, nothing more.

With `CodeSigning` (the stack's `lambdaCodeSigning` is enforce or warn), a function is never deployed from
the archive Pulumi builds: the archive is uploaded to the versioned artifacts bucket, an AWS Signer signing
job signs that object version into `signed/<function>/`, and the function is created from the signed object
with the stack's code-signing configuration attached. Lambda then refuses (Enforce) or flags (Warn) any
package not signed by the stack's profile, whoever deploys it. Code signing covers .zip packages, in a VPC
or not; container-image functions cannot use it (none here are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.deployment import Names
from components.lib.iam import assume_role_policy, document, statement, to_json

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = "python3.13"
HTTPS = 443
ARCHITECTURE = "arm64"
# The AWS managed policy for functions in a VPC; its ARN is built in the stack's partition.
VPC_ACCESS_POLICY = "policy/service-role/AWSLambdaVPCAccessExecutionRole"
# Events an asynchronous invocation could not deliver stay in the dead-letter queue this long (SQS maximum).
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
# Where packages wait for signing and where Signer writes what it signed, in the artifacts bucket.
UNSIGNED_PREFIX = "unsigned/"
SIGNED_PREFIX = "signed/"


def lambda_code(package: str, extra: Mapping[str, pulumi.Asset] | None = None) -> pulumi.AssetArchive:
    """The package `lambdas/<package>/` (and `lambdas/__init__.py`), plus any extra files by archive path."""
    files = [ROOT / "lambdas" / "__init__.py", *sorted((ROOT / "lambdas" / package).glob("*.py"))]
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        str(path.relative_to(ROOT)): pulumi.FileAsset(str(path)) for path in files
    }
    assets.update(extra or {})
    return pulumi.AssetArchive(assets)


def https_within_vpc(
    base: str,
    *,
    vpc_id: pulumi.Input[str],
    vpc_cidr: str,
    name_tag: str,
    purpose: str,
    egress_description: str,
    parent: pulumi.Resource,
) -> aws.ec2.SecurityGroup:
    """A function's security group `<base>-sg`: no ingress, and HTTPS out to the VPC's own addresses only
    (the AWS API interface endpoints, internal load balancers); nothing reaches the internet."""
    group = aws.ec2.SecurityGroup(
        f"{base}-sg",
        vpc_id=vpc_id,
        description=purpose,
        tags={"Name": name_tag},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.vpc.SecurityGroupEgressRule(
        f"{base}-https-out",
        security_group_id=group.id,
        description=egress_description,
        ip_protocol="tcp",
        from_port=HTTPS,
        to_port=HTTPS,
        cidr_ipv4=vpc_cidr,
        opts=pulumi.ResourceOptions(parent=group),
    )
    return group


@dataclass(frozen=True)
class CodeSigning:
    """Where function packages are signed and the code-signing configuration functions attach
    (`components/code_signing.py` builds it)."""

    bucket: pulumi.Input[str]  # the versioned artifacts bucket (Signer requires versioning on the source)
    profile_name: pulumi.Input[str]
    config_arn: pulumi.Input[str]
    ready: Sequence[pulumi.Resource]  # the bucket's versioning and policy, the profile


@dataclass(frozen=True)
class SignedPackage:
    """A function package as uploaded, the signing job, and the signed object Lambda deploys."""

    upload: aws.s3.BucketObjectv2
    job: aws.signer.SigningJob
    bucket: pulumi.Output[str]
    key: pulumi.Output[str]


def signed_package(
    base: str, function_name: str, archive: pulumi.Archive, signing: CodeSigning, parent: pulumi.Resource
) -> SignedPackage:
    """Upload `archive` as `unsigned/<function>.zip` and sign that version into `signed/<function>/`.

    A changed package is a new object version, hence a new signing job (every input of a job forces a
    replacement) and a new signed key, so the function is redeployed exactly when its code changes.
    """
    upload = aws.s3.BucketObjectv2(
        f"{base}-package",
        bucket=signing.bucket,
        key=f"{UNSIGNED_PREFIX}{function_name}.zip",
        source=archive,
        content_type="application/zip",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(signing.ready)),
    )
    job = aws.signer.SigningJob(
        f"{base}-signing",
        profile_name=signing.profile_name,
        source=aws.signer.SigningJobSourceArgs(
            s3=aws.signer.SigningJobSourceS3Args(
                bucket=signing.bucket, key=upload.key, version=upload.version_id
            )
        ),
        destination=aws.signer.SigningJobDestinationArgs(
            s3=aws.signer.SigningJobDestinationS3Args(
                bucket=signing.bucket, prefix=f"{SIGNED_PREFIX}{function_name}/"
            )
        ),
        # A failed job fails the deployment: never deploy what Signer did not sign.
        ignore_signing_job_failure=False,
        opts=pulumi.ResourceOptions(parent=upload),
    )
    signed = job.signed_objects.apply(lambda objects: objects[0].s3s[0])  # type: ignore[index]
    return SignedPackage(
        upload=upload,
        job=job,
        bucket=signed.apply(lambda s3: str(s3.bucket)),
        key=signed.apply(lambda s3: str(s3.key)),
    )


@dataclass(frozen=True)
class VpcPlacement:
    """Where a function runs inside the VPC."""

    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_ids: Sequence[pulumi.Input[str]]
    partition: pulumi.Input[str]  # for the managed VPC-access policy's ARN


@dataclass(frozen=True)
class FunctionSpec:
    """One function: its physical name, package, what it may do, and how it runs."""

    function_name: str
    package: str
    description: str
    statements: Sequence[Mapping[str, Any]]
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    extra_files: Mapping[str, pulumi.Asset] = field(default_factory=dict)
    vpc: VpcPlacement | None = None
    timeout: int = 30
    memory_size: int = 128
    # Reserved concurrency: a burst (a flood of log events, a mass rotation) cannot take the account's
    # whole Lambda concurrency, and this function always has its share.
    reserved_concurrency: int = 5
    # Invoked asynchronously (SNS, a log subscription, EventBridge Scheduler): events that fail every retry
    # go to an encrypted dead-letter queue instead of being dropped.
    asynchronous: bool = False


@dataclass(frozen=True)
class LoggedFunction:
    """The function and what was made for it."""

    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    policy: aws.iam.RolePolicy
    dead_letter_queue: aws.sqs.Queue | None = None
    package: SignedPackage | None = None


def logged_function(
    base: str,
    spec: FunctionSpec,
    *,
    logs_key_arn: pulumi.Input[str],
    retention_days: int,
    parent: pulumi.Resource,
    role: aws.iam.Role | None = None,
    functions_key_arn: pulumi.Input[str] | None = None,
    code_signing: CodeSigning | None = None,
) -> LoggedFunction:
    """Create `<base>-logs`, `<base>-role`, `<base>-policy` and the function `<base>` under `parent`.
    Pass `role` when others must name the function's role before the function exists (a key policy).

    With `functions_key_arn`, the function's environment variables are encrypted with that customer-managed
    key (the role may decrypt with it), and an asynchronous function's dead-letter queue `<base>-dlq` too.
    With `code_signing`, the function is deployed from its signed package (`<base>-package`, `-signing`).
    """
    child = pulumi.ResourceOptions(parent=parent)
    queue = (
        aws.sqs.Queue(
            f"{base}-dlq",
            name=Names.dead_letter_queue(spec.function_name),
            message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            kms_master_key_id=functions_key_arn,
            # SQS-managed encryption only when no key is given (a stack without the functions key).
            sqs_managed_sse_enabled=None if functions_key_arn is not None else True,
            tags={"Name": Names.dead_letter_queue(spec.function_name)},
            opts=child,
        )
        if spec.asynchronous
        else None
    )
    log_group = aws.cloudwatch.LogGroup(
        f"{base}-logs",
        name=Names.lambda_log_group(spec.function_name),
        retention_in_days=retention_days,
        kms_key_id=logs_key_arn,
        opts=child,
    )
    role = role or aws.iam.Role(
        f"{base}-role",
        description=spec.description[:1000],
        assume_role_policy=assume_role_policy("lambda.amazonaws.com"),
        opts=child,
    )
    policy = aws.iam.RolePolicy(
        f"{base}-policy",
        role=role.id,
        policy=to_json(
            role_policy(
                [*spec.statements, *key_statements(functions_key_arn, queue, spec.environment)], log_group.arn
            )
        ),
        opts=pulumi.ResourceOptions(parent=role),
    )
    ready: list[pulumi.Resource] = [log_group, policy]
    if spec.vpc is not None:
        ready.append(
            aws.iam.RolePolicyAttachment(
                f"{base}-vpc-access",
                role=role.name,
                policy_arn=pulumi.Output.concat("arn:", spec.vpc.partition, ":iam::aws:", VPC_ACCESS_POLICY),
                opts=pulumi.ResourceOptions(parent=role),
            )
        )
    archive = lambda_code(spec.package, spec.extra_files)
    package = (
        signed_package(base, spec.function_name, archive, code_signing, parent)
        if code_signing is not None
        else None
    )
    function = aws.lambda_.Function(
        base,
        name=spec.function_name,
        description=spec.description[:256],
        role=role.arn,
        runtime=RUNTIME,
        handler=f"lambdas.{spec.package}.handler.lambda_handler",
        code=archive if package is None else None,
        s3_bucket=package.bucket if package is not None else None,
        s3_key=package.key if package is not None else None,
        code_signing_config_arn=code_signing.config_arn if code_signing is not None else None,
        architectures=[ARCHITECTURE],
        timeout=spec.timeout,
        memory_size=spec.memory_size,
        reserved_concurrent_executions=spec.reserved_concurrency,
        # X-Ray traces every invocation (its segments need the SendTraces statement of the role policy).
        tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
        environment={"variables": dict(spec.environment)} if spec.environment else None,
        kms_key_arn=functions_key_arn if spec.environment else None,
        dead_letter_config={"target_arn": queue.arn} if queue is not None else None,
        vpc_config=(
            {"subnet_ids": list(spec.vpc.subnet_ids), "security_group_ids": list(spec.vpc.security_group_ids)}
            if spec.vpc is not None
            else None
        ),
        tags={"Name": spec.function_name},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=ready),
    )
    return LoggedFunction(
        function=function,
        role=role,
        log_group=log_group,
        policy=policy,
        dead_letter_queue=queue,
        package=package,
    )


def key_statements(
    key_arn: pulumi.Input[str] | None, queue: aws.sqs.Queue | None, environment: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Decrypting its own environment, and sending failed events to its dead-letter queue."""
    found: list[dict[str, Any]] = []
    if key_arn is not None and environment:
        found.append(statement("DecryptOwnEnvironment", ["kms:Decrypt"], [key_arn]))
    if queue is not None:
        found.append(statement("SendFailedEvents", ["sqs:SendMessage"], [queue.arn]))
        if key_arn is not None:
            found.append(
                statement(
                    "EncryptFailedEvents",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    [key_arn],
                    condition={"StringLike": {"kms:ViaService": "sqs.*.amazonaws.com"}},
                )
            )
    return found


def role_policy(statements: Sequence[Mapping[str, Any]], log_group_arn: pulumi.Input[str]) -> dict[str, Any]:
    """The function's own statements plus writing to its own log group (created beforehand)."""
    return document(
        *statements,
        statement(
            "WriteOwnLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [pulumi.Output.concat(log_group_arn, ":*")],
        ),
        # X-Ray has no resource-level permissions for sending traces.
        statement("SendTraces", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
    )
