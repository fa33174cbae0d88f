"""Pulumi dynamic providers: Vault bootstrap, and the seeds that put a catalog entry's first value in place.

Providers are serialised with dill and run by Pulumi's dynamic-provider host in a separate process, so
they hold no client objects: every call builds its clients from its inputs.
"""
