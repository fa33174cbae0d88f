"""The project's component base class and its one readiness convention.

Every component exposes `ready`: the resources a dependent must wait for before it may use the component.
A dependent takes them as `depends_on` in its args and passes them to `pulumi.ResourceOptions(depends_on=)`
of the resources that need them. By default `ready` is the component itself, which makes Pulumi wait for
its children; a component whose usable state hangs on grandchildren (a listener, a route) lists those, since
depending on a component does not wait for its children's children.
"""

from __future__ import annotations

from typing import Any

import pulumi


class Component(pulumi.ComponentResource):
    """A `pulumi.ComponentResource` with `ready`, what dependents wait for (see the module docstring)."""

    ready: list[pulumi.Resource]

    def __init__(
        self,
        t: str,
        name: str,
        props: dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(t, name, props, opts)
        self.ready = [self]
