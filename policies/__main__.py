"""What the Pulumi CLI runs for `--policy-pack policies`: it serves every rule over gRPC and never returns.

Nothing imports this module. The rules are in `rules/` (imported here as the top-level package `rules`,
because the CLI runs this directory as a script with the directory on `sys.path`; the tests and the
offline preview import the same modules as `policies.rules`).
"""

from pulumi_policy import PolicyPack
from rules import ALL_POLICIES, PACK_ENFORCEMENT_LEVEL

PolicyPack(
    name="candlefish-secrets",
    enforcement_level=PACK_ENFORCEMENT_LEVEL,
    policies=ALL_POLICIES,
)
