"""Every taggable resource carries the stack's tags and a deploy-time DeployedAt stamp."""

import datetime

import pulumi_aws as aws

from components.config.stack import REQUIRED_TAGS
from components.lib.tagging import DEPLOYED_AT, merged_tags


def test_every_taggable_resource_has_the_required_tags_and_a_deploy_date(production):
    taggable = [
        r for r in production.resources if r.custom and r.type.startswith("aws:") and "tags" in r.inputs
    ]
    assert len(taggable) > 40
    # Stamped with the UTC date of the deployment: the recording ran today (or just before midnight).
    today = datetime.datetime.now(datetime.UTC).date()
    recent_dates = {today.isoformat(), (today - datetime.timedelta(days=1)).isoformat()}
    for resource in taggable:
        tags = resource.inputs["tags"]
        if isinstance(tags, list):
            # An Auto Scaling group's tags are a list, propagated to its instances, without DeployedAt.
            assert all(item["propagateAtLaunch"] for item in tags), resource.name
            tags = {item["key"]: item["value"] for item in tags} | {DEPLOYED_AT: next(iter(recent_dates))}
        for tag in REQUIRED_TAGS:
            assert tags.get(tag), f"{resource.name} lacks {tag}"
        assert tags[DEPLOYED_AT] in recent_dates, f"{resource.name}: {tags[DEPLOYED_AT]}"
        assert tags["Environment"] == "production"


def test_resources_without_tags_are_those_aws_cannot_tag(production):
    untagged = {
        r.type
        for r in production.resources
        if r.custom and r.type.startswith("aws:") and "tags" not in r.inputs
    }
    for type_ in untagged:
        module, name = type_.split(":")[1].split("/")[0], type_.split(":")[2]
        cls = getattr(getattr(aws, module, None) or getattr(aws, f"{module}_"), name)
        assert not hasattr(cls, "tags"), f"{type_} supports tags but got none"


def test_a_components_own_tags_win_over_the_stacks():
    assert merged_tags({"Name": "stack", "Project": "p"}, {"Name": "mine"}) == {
        "Name": "mine",
        "Project": "p",
    }


def test_deploy_date_is_today_and_ignored_on_later_runs(production):
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    vpc = production.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["tags"][DEPLOYED_AT] == today
    # Once a resource exists, a later deploy must not rewrite its DeployedAt.
    assert f"tags.{DEPLOYED_AT}" in vpc.ignore_changes


def test_taggability_is_read_from_the_resource_class():
    assert hasattr(aws.ec2.Vpc, "tags")
    assert not hasattr(aws.ec2.Route, "tags")
