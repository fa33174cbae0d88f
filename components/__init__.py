"""Pulumi component resources for the candlefish-secrets platform, grouped by concern.

`deployment` (the deployment context), `config/` and `lib/` are the base every other module may import;
`keys`, `network`, `storage`, `alerting` and `lambda_function` are single-module components; `vault/`,
`catalog/`, `database/` and `monitoring/` are the larger concerns. Only `__main__.py` composes components;
a component takes what it needs from another as arguments, never by importing the other's resources.
docs/architecture.md describes the layers and what may import what.
"""
