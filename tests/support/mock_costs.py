"""Per-resource work the Pulumi SDK does for a real engine that the recording mocks throw away.

A run under the mocks (`tests.support.mocks.run_under_mocks`) registers every resource through the real SDK,
and the SDK spends part of each registration on things only the real engine reads. Two of them are a large
share of an offline preview (benchmarks/preview.py, profiled with cProfile and py-spy):

- the source position: `pulumi.runtime.resource._get_stack_trace` walks the Python stack and turns every
  frame into a file URI so the engine can point at the line that declared the resource. The mock monitor
  never reads `sourcePosition` or `stackTrace`, and a recording keeps neither.
- the dynamic provider: `pulumi.dynamic.Resource` pickles its provider with dill for every resource (about
  9 ms each, twice per catalog entry for the two seeds). A provider object without instance state pickles
  to the same text every time, so it is pickled once per class and run; one with state is pickled as
  before. The pickle is a secret input, masked in every plan.

A third is work the SDK repeats although its answer cannot change during a run: `pulumi._types.resource_types`
reads a resource class's type annotations (`typing.get_type_hints`) again for every resource of the class,
to resolve the outputs. It is remembered per class for the run (the SDK only reads the dict it returns).

And the SDK's debug messages (several per registration, each a log request to the engine): the recording
keeps only warnings (`tests.support.mocks._WarningCollector`), so `pulumi.log.debug` does nothing in a run.

`sdk_bookkeeping_skipped()` swaps all four for the length of a run and puts the SDK's own back afterwards;
what the monitor receives is unchanged (`tools/plan_identity.py` compares whole plans before and after).
`cyclic_gc_paused()` pauses the cyclic garbage collector for a run (see its docstring).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from typing import Any

from pulumi import _types as pulumi_types
from pulumi import log as pulumi_log
from pulumi.dynamic import dynamic as pulumi_dynamic
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime.proto import source_pb2


def _no_debug_message(msg: str, *args: Any, **kwargs: Any) -> None:
    """A debug message nobody keeps."""


def _no_stack_trace() -> source_pb2.StackTrace:
    """What the SDK sends when it finds no user frame: no frames, hence no source position."""
    return source_pb2.StackTrace()


def _pickled_once_per_class(serialize: Callable[[Any], str]) -> Callable[[Any], str]:
    """`serialize` (the SDK's provider pickler) remembered per class for providers without state."""
    pickled: dict[type, str] = {}

    def serialize_provider(provider: Any) -> str:
        if getattr(provider, "__dict__", None) != {}:
            return serialize(provider)
        kind = type(provider)
        if kind not in pickled:
            pickled[kind] = serialize(provider)
        return pickled[kind]

    return serialize_provider


class _TypesPerClass:
    """`types_of` (the SDK's output types of a resource class) remembered per class."""

    def __init__(self, types_of: Callable[[type], dict[str, type]]) -> None:
        self.types_of = types_of
        self.found: dict[type, dict[str, type]] = {}

    def __call__(self, resource_cls: type) -> dict[str, type]:
        if resource_cls not in self.found:
            self.found[resource_cls] = self.types_of(resource_cls)
        return self.found[resource_cls]


@contextlib.contextmanager
def sdk_bookkeeping_skipped() -> Iterator[None]:
    """For one run under the mocks: no source positions or debug messages; stateless providers pickled and
    resource classes' output types read once per class."""
    stack_trace = pulumi_resource._get_stack_trace
    serialize_provider = pulumi_dynamic.serialize_provider
    resource_types = pulumi_types.resource_types
    debug = pulumi_log.debug
    pulumi_log.debug = _no_debug_message
    pulumi_resource._get_stack_trace = _no_stack_trace
    pulumi_dynamic.serialize_provider = _pickled_once_per_class(serialize_provider)
    pulumi_types.resource_types = _TypesPerClass(resource_types)
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = stack_trace
        pulumi_dynamic.serialize_provider = serialize_provider
        pulumi_types.resource_types = resource_types
        pulumi_log.debug = debug


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector; restore it as it was on leaving.

    A run allocates a growing heap of long-lived objects (resources, outputs, futures, tasks) and frees
    few until it ends, so each full collection walks more than the last: with the collector on, a
    200-secret catalog took twice as long and grew faster than the stack (benchmarks/preview.py).
    Reference counting still frees everything acyclic during the run; cycles wait for a collection.
    Leaving re-enables the collector, and its first collection then walks everything the run allocated
    (about a tenth of a 200-secret preview): a caller that ends right after the run (`tools.preview`)
    holds the pause around all its work instead, and nested pauses leave the collector off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
