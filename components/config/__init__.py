"""The typed, validated stack config: `StackConfig` and its sections, and the reader that collects problems.

Pure Python (no Pulumi resources). May import `components.lib`; everything else may import this package.
"""
