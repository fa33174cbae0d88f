"""Pure helpers shared by components: IAM and resource-policy documents, tagging, time windows, CIDR math.

No component resources live here. Modules here import only each other and the standard library/Pulumi SDK;
every other package may import them.
"""
