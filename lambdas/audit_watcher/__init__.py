"""Counts secret reads outside business hours in the Vault audit log.

Handler: `lambdas.audit_watcher.handler.lambda_handler`.
"""
