"""One condition at a time: a resource that passes a rule, and changes to it that each break one condition.

A `Condition` starts from the rule's passing resource, applies one change (dotted paths; `REMOVE` deletes
the key) and names the one message the rule must then report, or `None` where the change stays within the
rule (an exemption, or a boundary at the limit). So each condition is proven on its own: deleting it from
the rule makes its case pass where a violation is expected, and a condition that fires too eagerly
fails the cases that must pass.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

REMOVE = object()


def changed(good: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """`good` with each dotted path of `change` set to its value (or removed, for `REMOVE`)."""
    props = copy.deepcopy(dict(good))
    for path, value in change.items():
        *parents, last = path.split(".")
        target = props
        for key in parents:
            target = target.setdefault(key, {})
        if value is REMOVE:
            target.pop(last, None)
        else:
            target[last] = value
    return props


@dataclass(frozen=True)
class Condition:
    """`rule` reports exactly `message` (a fragment of it; a tuple: these, in order) for `good` changed by
    `change`; None: nothing."""

    rule: str
    type: str
    good: Mapping[str, Any]
    change: Any  # Mapping[str, Any]; Any because the tables mix shapes mypy would widen to object
    message: Any  # str | tuple[str, ...] | None
    config: Mapping[str, Any] | None = field(default=None)

    @property
    def id(self) -> str:
        shown = ",".join(f"{k}={'<removed>' if v is REMOVE else v}" for k, v in self.change.items())
        return f"{self.rule}[{shown}]"[:120]

    @property
    def messages(self) -> tuple[str, ...]:
        if self.message is None:
            return ()
        return (self.message,) if isinstance(self.message, str) else self.message

    def props(self) -> dict[str, Any]:
        return changed(self.good, self.change)
