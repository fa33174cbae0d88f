"""The Vault cluster: nodes, security groups, load balancer, TLS, node IAM, user-data, the bootstrap
component, Vault ACL policies, and the templates/ they render from.

May import `components.config`, `components.lib` and `components.deployment`. `__main__.py` composes it;
other concerns receive its outputs as arguments.
"""
