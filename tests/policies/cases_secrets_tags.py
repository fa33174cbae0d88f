"""Pass/violate cases for the plaintext-secret and required-tags rules."""

import base64

from tests.policies.support import PRODUCTION, Case, Fake

VPC = "aws:ec2/vpc:Vpc"
CLEAN_USER_DATA = base64.b64encode(b"#!/bin/bash\nset -euo pipefail\nsystemctl enable --now vault\n").decode()

CASES = [
    Case(
        "no-plaintext-secrets",
        type=VPC,
        good={"cidrBlock": "10.0.0.0/16", "tags": {**PRODUCTION, "Name": "candlefish-production"}},
        bad={"cidrBlock": "10.0.0.0/16", "tags": {**PRODUCTION, "CiKey": Fake.AWS_ACCESS_KEY_ID}},
        expect="input tags.CiKey holds an AWS access key id in plaintext",
    ),
    Case(
        "required-tags",
        type=VPC,
        good={"cidrBlock": "10.0.0.0/16", "tags": PRODUCTION},
        bad={"cidrBlock": "10.0.0.0/16", "tags": {"Environment": "production", "Project": "Candlefish-AI"}},
        expect="missing required tags: Component, DeployedBy",
    ),
]

__all__ = ["CASES", "CLEAN_USER_DATA"]
