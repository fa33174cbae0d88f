"""What a Vault node boots from: the Amazon Linux image, its encrypted volumes, and the launch template that
carries the user-data (components/vault/userdata.py) with the node's settings.

The cluster (components/vault/cluster.py) decides how many nodes run and where; this module decides what each
one is. It creates the launch template as a child of the cluster, so its URN is the cluster's child's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config.vault import VaultConfig
from components.deployment import Deployment
from components.vault import userdata
from components.vault.iam import METRICS_NAMESPACE

# The tag nodes find each other by (retry_join auto_join); its value is `Names.raft_join_tag`.
JOIN_TAG_KEY = "VaultCluster"
ROOT_VOLUME_GIB = 20
# Amazon Linux 2023 (standard, not minimal), pinned to Amazon's own account.
AMI_OWNER = "amazon"
# One kernel line only, so a lookup never switches between AL2023's 6.1 and 6.12 kernels.
AMI_NAME_PATTERN = "al2023-ami-2023.*-kernel-6.1-{arch}"


def instance_architecture(instance_type: str) -> str:
    """arm64 for Graviton families (a "g" after the generation digit: t4g, m7gd, c6gn), else x86_64."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if re.fullmatch(r"[a-z]+\d+[a-z]*g[a-z]*", family) else "x86_64"


@dataclass(frozen=True)
class NodeLaunchArgs:
    """What a node needs at boot: the cluster's identity and keys, and where it writes logs and snapshots."""

    deployment: Deployment
    vault: VaultConfig
    instance_profile_arn: pulumi.Input[str]
    node_security_group_id: pulumi.Input[str]
    unseal_key_arn: pulumi.Input[str]
    data_key_arn: pulumi.Input[str]
    tls_secret_arn: pulumi.Input[str]
    snapshot_bucket: pulumi.Input[str]
    snapshot_prefix: str
    server_log_group: pulumi.Input[str]
    audit_log_group: pulumi.Input[str]
    # Where the load balancer's nodes live: Vault trusts X-Forwarded-For from these blocks only.
    load_balancer_subnet_cidrs: Sequence[str]


def node_settings(args: NodeLaunchArgs) -> pulumi.Output[userdata.NodeSettings]:
    """The user-data's settings, once the ARNs and names they carry are known."""
    names = args.deployment.names
    resolved = pulumi.Output.all(
        unseal_key_arn=args.unseal_key_arn,
        tls_secret_arn=args.tls_secret_arn,
        data_key_arn=args.data_key_arn,
        snapshot_bucket=args.snapshot_bucket,
        server_log_group=args.server_log_group,
        audit_log_group=args.audit_log_group,
    )
    return resolved.apply(
        lambda values: userdata.NodeSettings(
            cluster_name=names.telemetry_cluster,
            region=args.deployment.aws.region,
            vault_version=args.vault.version,
            server_name=args.vault.server_name,
            join_tag_key=JOIN_TAG_KEY,
            join_tag_value=names.raft_join_tag,
            snapshot_prefix=args.snapshot_prefix,
            metrics_namespace=METRICS_NAMESPACE,
            load_balancer_cidrs=",".join(args.load_balancer_subnet_cidrs),
            dev_mode=args.vault.dev_mode,
            **values,
        )
    )


def _volume(
    device_name: pulumi.Input[str], size_gib: int, kms_key_arn: pulumi.Input[str]
) -> aws.ec2.LaunchTemplateBlockDeviceMappingArgs:
    """An encrypted gp3 volume (data key) deleted with its instance: raft data re-replicates to a
    replacement node and audit logs are already shipped to CloudWatch."""
    return aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
        device_name=device_name,
        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
            volume_type="gp3",
            volume_size=size_gib,
            encrypted="true",
            kms_key_id=kms_key_arn,
            delete_on_termination="true",
        ),
    )


def node_launch_template(name: str, args: NodeLaunchArgs, parent: pulumi.Resource) -> aws.ec2.LaunchTemplate:
    """The launch template `<name>-launch-template` (child of `parent`) every Vault node starts from."""
    names, vault = args.deployment.names, args.vault
    arch = instance_architecture(vault.instance_type)
    pinned = vault.ami_id
    ami = aws.ec2.get_ami_output(
        most_recent=True,
        owners=[AMI_OWNER],
        filters=[
            aws.ec2.GetAmiFilterArgs(name="image-id", values=[pinned])
            if pinned
            else aws.ec2.GetAmiFilterArgs(name="name", values=[AMI_NAME_PATTERN.format(arch=arch)]),
            aws.ec2.GetAmiFilterArgs(name="architecture", values=[arch]),
            aws.ec2.GetAmiFilterArgs(name="virtualization-type", values=["hvm"]),
            aws.ec2.GetAmiFilterArgs(name="root-device-type", values=["ebs"]),
        ],
        opts=pulumi.InvokeOutputOptions(parent=parent),
    )
    volumes = [_volume(ami.root_device_name, ROOT_VOLUME_GIB, args.data_key_arn)]
    if not vault.dev_mode:
        volumes.append(_volume(userdata.DATA_DEVICE, vault.data_volume_gib, args.data_key_arn))
    volumes.append(_volume(userdata.AUDIT_DEVICE, vault.audit_volume_gib, args.data_key_arn))
    node_tags = {
        "Name": names.resource("vault"),
        JOIN_TAG_KEY: names.raft_join_tag,
        "VaultMode": "dev-in-memory" if vault.dev_mode else "raft",
        # The release the nodes install, for the policy pack's advisory check (known at preview).
        "VaultVersion": vault.version,
    }
    return aws.ec2.LaunchTemplate(
        f"{name}-launch-template",
        name=names.resource("vault"),
        description=f"Vault {vault.version} nodes of {names.prefix}",
        image_id=ami.id,
        instance_type=vault.instance_type,
        update_default_version=True,
        ebs_optimized="true",
        iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=args.instance_profile_arn),
        # IMDSv2 only; one hop, so nothing the node might run in a container reaches its credentials.
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            http_put_response_hop_limit=1,
            instance_metadata_tags="enabled",
        ),
        monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
        # No public address and no key pair: operators use Session Manager.
        network_interfaces=[
            aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                device_index=0,
                associate_public_ip_address="false",
                delete_on_termination="true",
                security_groups=[args.node_security_group_id],
            )
        ],
        block_device_mappings=volumes,
        instance_initiated_shutdown_behavior="terminate",
        user_data=node_settings(args).apply(userdata.user_data),
        tag_specifications=[
            aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type="instance", tags=node_tags),
            aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type="volume", tags={**args.deployment.tags, **node_tags}
            ),
        ],
        tags={"Name": names.resource("vault")},
        # A new image replaces every node (one at a time); that happens when vaultAmiId is changed on
        # purpose, never merely because Amazon published a newer image than the one first looked up.
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=[] if pinned else ["imageId"]),
    )
