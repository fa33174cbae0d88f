"""Pulumi component resources for the candlefish-secrets platform, plus the typed stack config."""
