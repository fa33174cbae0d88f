"""The datastores: RDS PostgreSQL and ElastiCache Redis, and Vault's database roles with their SQL templates.

May import `components.config`, `components.lib`, `components.deployment`, `components.catalog` (Vault
access) and `components.vault` (the port and security-group rule helpers).
"""
