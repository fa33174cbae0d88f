"""Monitoring: alarms as data, audit-log metric filters and queries, dashboard widgets and dashboards, and the
`Monitoring` component that creates them.

May import `components.config`, `components.lib`, `components.deployment` and `components.lambda_function`.
"""
