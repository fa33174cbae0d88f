"""Stack-wide tagging: every taggable AWS resource gets the stack's tags plus a deploy-time `DeployedAt`.

A stack transformation (run in-process, so it also works under the test mocks) merges the config's tags
under whatever tags a component set itself. `DeployedAt` is stamped with the date a resource is first
created and then ignored on later runs, so a deploy does not rewrite every resource's tags.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import pulumi

DEPLOYED_AT = "DeployedAt"
# Auto Scaling groups take tags as a list of {key, value, propagateAtLaunch} instead of a map.
_ASG_TYPE = "aws:autoscaling/group:Group"


def is_taggable(resource: pulumi.Resource) -> bool:
    """True for AWS custom resources whose schema has a `tags` map."""
    return isinstance(resource, pulumi.CustomResource) and hasattr(type(resource), "tags")


def merged_tags(base: Mapping[str, str], own: Mapping[str, str] | None) -> dict[str, str]:
    """The stack's tags, overridden by the resource's own."""
    return {**base, **(own or {})}


def register(base_tags: Mapping[str, str], today: datetime.date | None = None) -> None:
    """Register the tagging transformation for every resource created after this call."""
    stamp = (today or datetime.datetime.now(datetime.UTC).date()).isoformat()
    stack_tags = {**base_tags, DEPLOYED_AT: stamp}

    def tag(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if not args.type_.startswith("aws:") or not is_taggable(args.resource):
            return None
        props: dict[str, Any] = dict(args.props)
        if args.type_ == _ASG_TYPE:
            # A list cannot take an ignore_changes path per tag, so the group itself carries no DeployedAt.
            given = {_tag_key(item): item for item in props.get("tags") or []}
            props["tags"] = [
                {"key": key, "value": value, "propagate_at_launch": True}
                for key, value in base_tags.items()
                if key not in given
            ] + list(given.values())
            return pulumi.ResourceTransformationResult(props, args.opts)
        props["tags"] = merged_tags(stack_tags, props.get("tags"))
        opts = pulumi.ResourceOptions.merge(
            args.opts, pulumi.ResourceOptions(ignore_changes=[f"tags.{DEPLOYED_AT}"])
        )
        return pulumi.ResourceTransformationResult(props, opts)

    pulumi.runtime.register_stack_transformation(tag)


def _tag_key(item: object) -> str:
    """The key of an Auto Scaling group tag given as a dict or as a `GroupTagArgs`."""
    return str(item["key"] if isinstance(item, Mapping) else pulumi.get(item, "key"))
