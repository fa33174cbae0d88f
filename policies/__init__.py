"""The candlefish-secrets CrossGuard policy pack (`PulumiPolicy.yaml`); the rules live in `policies.rules`."""
