"""Lambda code signing (lambdaCodeSigning): functions deploy from packages the stack's Signer profile signed
in a versioned artifacts bucket, under a code-signing configuration that enforces it in production."""

import json
import re

import pytest

from components.config.stack import parse_stack_config
from tests.support.mocks import run_program
from tools import stackfile

FUNCTION = "aws:lambda/function:Function"
JOB = "aws:signer/signingJob:SigningJob"
UPLOAD = "aws:s3/bucketObjectv2:BucketObjectv2"
PROFILE = "aws:signer/signingProfile:SigningProfile"
CSC = "aws:lambda/codeSigningConfig:CodeSigningConfig"
SIGNING_TYPES = (JOB, UPLOAD, PROFILE, CSC)


@pytest.fixture(scope="module")
def warned():
    return run_program("dev", overrides={"candlefish-secrets:lambdaCodeSigning": "warn"})


def test_every_production_function_is_deployed_from_its_signed_package(production):
    bucket = production.one("aws:s3/bucket:Bucket", "storage-artifacts").outputs["bucket"]
    config_arn = production.one(CSC, "code-signing-config").outputs["arn"]
    functions = production.of_type(FUNCTION)
    assert len(functions) >= 3
    for function in functions:
        name = function.inputs["name"]
        job = production.one(JOB, f"{function.name}-signing")
        upload = production.one(UPLOAD, f"{function.name}-package")
        (signed,) = job.outputs["signedObjects"][0]["s3s"]
        assert "code" not in function.inputs, name  # never the unsigned archive
        assert (function.inputs["s3Bucket"], function.inputs["s3Key"]) == (bucket, signed["key"]), name
        assert function.inputs["codeSigningConfigArn"] == config_arn, name
        # Signer signs exactly the uploaded version, into the function's own prefix.
        assert upload.inputs["bucket"] == bucket and upload.inputs["key"] == f"unsigned/{name}.zip"
        assert job.inputs["source"] == {
            "s3": {"bucket": bucket, "key": upload.outputs["key"], "version": upload.outputs["versionId"]}
        }
        assert job.inputs["destination"] == {"s3": {"bucket": bucket, "prefix": f"signed/{name}/"}}
        assert signed["key"].startswith(f"signed/{name}/")
        assert job.inputs["ignoreSigningJobFailure"] is False
        assert job.inputs["profileName"] == production.one(PROFILE).outputs["name"]


def test_production_enforces_signatures_of_the_stacks_own_profile_only(production):
    profile = production.one(PROFILE, "code-signing-profile")
    config = production.one(CSC, "code-signing-config")
    assert profile.inputs["platformId"] == "AWSLambda-SHA384-ECDSA"
    assert config.inputs["policies"] == {"untrustedArtifactOnDeployment": "Enforce"}
    assert config.inputs["allowedPublishers"] == {
        "signingProfileVersionArns": [profile.outputs["versionArn"]]
    }


def test_the_signing_profile_name_is_one_signer_accepts(production):
    # Letters, digits and underscores, 2-64 characters; a generated suffix, since a cancelled profile keeps
    # its name for two years.
    profile = production.one(PROFILE, "code-signing-profile")
    assert "name" not in profile.inputs
    assert profile.inputs["namePrefix"] == "candlefish_production_"
    assert re.fullmatch(r"[A-Za-z0-9_]{2,64}", profile.outputs["name"])


def test_the_artifacts_bucket_follows_the_storage_conventions(production):
    bucket = production.one("aws:s3/bucket:Bucket", "storage-artifacts")
    children = {r.type: r for r in production.resources if r.parent == bucket.urn}
    versioning = children["aws:s3/bucketVersioning:BucketVersioning"]
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"  # Signer requires it
    encryption = children[
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ].inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    data_key = production.one("aws:kms/key:Key", "keys-data").outputs["arn"]
    assert encryption == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": data_key}
    block = children["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"].inputs
    assert all(
        block[k]
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    policy = json.loads(children["aws:s3/bucketPolicy:BucketPolicy"].inputs["policy"])
    assert "DenyInsecureTransport" in {s["Sid"] for s in policy["Statement"]}
    logging = children["aws:s3/bucketLogging:BucketLogging"].inputs
    assert logging["targetPrefix"] == "s3-access/artifacts/"
    (rule,) = children["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"].inputs["rules"]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30} and "expiration" not in rule
    # S3 may deliver the artifacts bucket's access logs: the log bucket's policy names it.
    log_policy = production.one("aws:s3/bucketPolicy:BucketPolicy", "storage-s3-access-logs-policy")
    assert bucket.outputs["arn"] in log_policy.inputs["policy"]


def test_uploads_wait_for_the_bucket_to_be_versioned(production):
    versioning = production.one("aws:s3/bucketVersioning:BucketVersioning", "storage-artifacts-versioning")
    for upload in production.of_type(UPLOAD):
        assert versioning.urn in upload.dependencies, upload.name


def test_warn_mode_deploys_signed_packages_but_only_flags_unsigned_ones(warned):
    assert warned.one(CSC).inputs["policies"] == {"untrustedArtifactOnDeployment": "Warn"}
    for function in warned.of_type(FUNCTION):
        assert function.inputs["codeSigningConfigArn"] == warned.one(CSC).outputs["arn"], function.name


def test_dev_deploys_the_archive_without_any_signing_resources(dev):
    assert not [r for r in dev.resources if r.type in SIGNING_TYPES]
    assert not [r for r in dev.resources if r.name == "storage-artifacts"]
    for function in dev.of_type(FUNCTION):
        assert "code" in function.inputs and "codeSigningConfigArn" not in function.inputs, function.name


@pytest.mark.parametrize(("stack", "expected"), [("production", "enforce"), ("dev", "off")])
def test_unset_the_mode_follows_the_environment(stack, expected):
    loaded = stackfile.load(stack)
    values = {k: v for k, v in loaded.values.items() if not k.endswith(":lambdaCodeSigning")}
    assert (
        parse_stack_config(values, stack=stack, secret_keys=frozenset(loaded.secret_keys)).code_signing
        == expected
    )
