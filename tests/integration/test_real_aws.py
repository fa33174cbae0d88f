"""Opt-in: the committed stacks' settings against a real AWS account (read-only calls only).

Mocks accept any zone; AWS does not. Needs AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, a web identity,
...); makes only Describe calls in each stack's own region.
"""

import boto3
import pytest

from components.config.stack import check_zones, parse_stack_config
from tools import stackfile

pytestmark = pytest.mark.integration(target="aws")


@pytest.mark.parametrize("stack", ["production", "dev"])
def test_the_stacks_zones_are_available_to_this_account(stack):
    loaded = stackfile.load(stack)
    config = parse_stack_config(loaded.values, stack=stack, secret_keys=loaded.secret_keys)
    ec2 = boto3.client("ec2", region_name=config.region)
    zones = ec2.describe_availability_zones(
        Filters=[
            {"Name": "state", "Values": ["available"]},
            {"Name": "zone-type", "Values": ["availability-zone"]},
        ]
    )["AvailabilityZones"]
    check_zones(config, [zone["ZoneName"] for zone in zones])  # raises ConfigError naming the zone
