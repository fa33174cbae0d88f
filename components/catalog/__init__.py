"""The secrets catalog: its secrets, seeds and rotation schedules, and the rotation Lambda.

May import `components.config`, `components.lib`, `components.deployment`, `components.alerting` and
`components.lambda_function`. `components.database` imports its Vault access type.
"""
