"""Recording mocks: run the real Pulumi program with no engine and no cloud, and keep what it registered.

`run_program(stack)` loads `Pulumi.<stack>.yaml`, runs `__main__.py` under `pulumi.runtime.set_mocks`
inside `run_pulumi_func` (so every outstanding registration finishes), and returns a `Recording`:
every resource with its type, name, URN, parent, inputs as the engine sees them (camelCase), which
inputs were secret, and the outputs the mocks answered with. `run_under_mocks(function)` does the same
for any function that creates resources (a component the program does not compose yet).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import runpy
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from tests.support import fakes
from tests.support.mock_costs import cyclic_gc_paused, sdk_bookkeeping_skipped
from tools import stackfile

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "candlefish-secrets"


def is_unknown(value: Any) -> bool:
    """True for a value the engine cannot know until the resource it comes from exists (preview only)."""
    return isinstance(value, Unknown)


def unwrap_secrets(value: Any, path: str = "") -> tuple[Any, set[str]]:
    """Strip Pulumi's secret wrappers from a deserialised value; return it with the paths that were secret."""
    if rpc.is_rpc_secret(value):
        inner, paths = unwrap_secrets(rpc.unwrap_rpc_secret(value), path)
        return inner, paths | {path}
    if isinstance(value, dict):
        out, paths = {}, set()
        for key, item in value.items():
            out[key], found = unwrap_secrets(item, f"{path}.{key}" if path else key)
            paths |= found
        return out, paths
    if isinstance(value, list):
        items, paths = [], set()
        for index, item in enumerate(value):
            unwrapped, found = unwrap_secrets(item, f"{path}[{index}]")
            items.append(unwrapped)
            paths |= found
        return items, paths
    return value, set()


@dataclass
class RecordedResource:
    """One registered resource as the engine would have seen it."""

    type: str
    name: str
    urn: str
    parent: str | None
    custom: bool
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    secret_inputs: set[str] = field(default_factory=set)
    secret_outputs: set[str] = field(default_factory=set)
    dependencies: list[str] = field(default_factory=list)
    # Input name → URNs of the resources its value came from (what the engine calls property dependencies).
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    # Outputs the engine would encrypt in state although their inputs were not secret.
    additional_secret_outputs: list[str] = field(default_factory=list)

    def is_secret(self, path: str) -> bool:
        """True if the input at `path` (or a value containing it) was a Pulumi secret."""
        return any(
            path == secret or path.startswith((secret + ".", secret + "[")) for secret in self.secret_inputs
        )


@dataclass
class Recording:
    """Everything one run of the program registered, plus its stack outputs."""

    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    warnings: list[str]

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise AssertionError(f"expected one {type_} named {name!r}, found {len(found)} among {names}")
        return found[0]

    def named(self, name: str) -> RecordedResource:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name!r}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> RecordedResource:
        return next(r for r in self.resources if r.urn == urn)

    def children_of(self, parent: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == parent.urn]

    def descendants_of(self, ancestor: RecordedResource) -> list[RecordedResource]:
        found: list[RecordedResource] = []
        frontier = [ancestor]
        while frontier:
            children = self.children_of(frontier.pop())
            found += children
            frontier += children
        return found

    def component_of(self, resource: RecordedResource) -> RecordedResource | None:
        """The nearest ancestor that is a project component (type `candlefish:…`)."""
        by_urn = {r.urn: r for r in self.resources}
        current = by_urn.get(resource.parent or "")
        while current is not None:
            if current.type.startswith("candlefish:"):
                return current
            current = by_urn.get(current.parent or "")
        return None

    def find_by_output(self, key: str, value: Any) -> RecordedResource | None:
        """The resource whose output `key` equals `value` (follow an id or ARN back to its owner)."""
        return next((r for r in self.resources if r.outputs.get(key) == value), None)


class RecordingMocks(pulumi_mocks.Mocks):
    """Answers resource registrations with realistic outputs and invokes with fixed account facts.

    With `preview=True` it answers as the engine does for resources a first `pulumi preview` would create:
    no id, and only the (known) inputs echoed back, so every computed output downstream is unknown.
    """

    def __init__(self, region: str, *, preview: bool = False) -> None:
        self.region = region
        self.preview = preview
        # The inputs of the registration this thread is answering, for the monitor to record without
        # deserialising them again (the SDK's monitor calls `new_resource` on the registering thread).
        self._answering = threading.local()

    def take_inputs(self) -> tuple[dict[str, Any], set[str]]:
        """The plain inputs and secret paths of the last registration answered on this thread."""
        taken: tuple[dict[str, Any], set[str]] = self._answering.inputs
        del self._answering.inputs
        return taken

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        plain, secret_paths = unwrap_secrets(args.inputs)
        self._answering.inputs = (plain, secret_paths)
        if not args.custom:
            return "", {}
        if self.preview:
            return "", {key: value for key, value in args.inputs.items() if not is_unknown(value)}
        rid, state = fakes.outputs_for(args.typ, args.name, plain, self.region)
        # Outputs that echo a secret input stay secret, as the engine keeps them.
        for path in secret_paths:
            top = path.split(".")[0].split("[")[0]
            if top in state:
                state[top] = rpc.wrap_rpc_secret(state[top])
        for secret_output in ("result", "privateKeyPem", "bcryptHash"):
            if secret_output in state:
                state[secret_output] = rpc.wrap_rpc_secret(state[secret_output])
        return rid, state

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        token, given = args.token, args.args
        account = fakes.ACCOUNT_ID
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            arn = f"arn:aws:sts::{account}:assumed-role/deployer/session"
            return {"accountId": account, "arn": arn, "userId": "AROAEXAMPLE:session", "id": account}
        if token == "aws:index/getPartition:getPartition":
            return {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
                "reverseDnsPrefix": "com.amazonaws",
            }
        if token == "aws:index/getRegion:getRegion":
            return {
                "name": self.region,
                "region": self.region,
                "id": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
            }
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{letter}" for letter in "abcdef"]
            return {"names": names, "zoneIds": [f"use1-az{i}" for i in range(1, 7)], "id": self.region}
        if token == "aws:ec2/getAmi:getAmi":
            return fakes.ami(given)
        if token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
            return fakes.managed_prefix_list(str(given.get("name", "")), self.region)
        if token == "aws:iam/getSessionContext:getSessionContext":
            return fakes.session_context(str(given["arn"]))
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            return fakes.policy_document(given)
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            return {"arn": "arn:aws:iam::127311923021:root", "id": "127311923021"}
        raise NotImplementedError(
            f"the recording mocks do not answer invoke {token}; add it to tests/support/mocks.py"
        )


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also keeps each registration's parent, custom flag, dependencies and secrets."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording_mocks = mocks
        self.recorded: list[RecordedResource] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        urn = self.make_urn(request.parent, request.type, request.name)
        inputs, secret_inputs = self.recording_mocks.take_inputs()
        registered = self.resources[urn]
        # Unwrapping builds new dicts and lists, so the recording shares no container with the state.
        outputs, secret_outputs = unwrap_secrets(registered.state)
        self.recorded.append(
            RecordedResource(
                type=request.type,
                name=request.name,
                urn=urn,
                parent=request.parent or None,
                custom=bool(request.custom),
                id=registered.id or "",
                inputs=inputs,
                outputs=outputs,
                secret_inputs=secret_inputs,
                secret_outputs=secret_outputs,
                dependencies=list(request.dependencies),
                property_dependencies={
                    key: list(deps.urns) for key, deps in request.propertyDependencies.items() if deps.urns
                },
                protect=bool(request.protect),
                ignore_changes=list(request.ignoreChanges),
                additional_secret_outputs=list(request.additionalSecretOutputs),
            )
        )
        return response


class _WarningCollector(pulumi_mocks.MockEngine):
    """Keeps the program's warnings for the caller instead of printing them."""

    def __init__(self) -> None:
        quiet = logging.getLogger("candlefish.mocks.engine")
        quiet.propagate = False
        quiet.addHandler(logging.NullHandler())
        super().__init__(quiet)
        self.warnings: list[str] = []

    def Log(self, request: Any) -> None:
        from pulumi.runtime.proto import engine_pb2

        if request.severity == engine_pb2.WARNING:
            self.warnings.append(request.message)
        super().Log(request)


@contextlib.contextmanager
def _as_language_host(path: Path, values: Mapping[str, str], secret_keys: set[str]) -> Iterator[None]:
    """Run in the project directory with config passed the way the Python language host passes it."""
    previous_dir = Path.cwd()
    previous_env = {key: os.environ.get(key) for key in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")}
    os.environ["PULUMI_CONFIG"] = json.dumps(dict(values))
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(sorted(secret_keys))
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous_dir)
        for key, value in previous_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_program(
    stack: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    root: Path = ROOT,
    program: Callable[[], None] | None = None,
    preview: bool = False,
) -> Recording:
    """Run `__main__.py` for `stack` under the recording mocks.

    `overrides` replaces config values (`namespace:key` → value, None removes the key); `secrets` adds
    secure values as if set with `pulumi config set --secret`. `program` runs instead of `__main__.py`
    (with the same config), to record one component on its own. `preview=True` runs as a first
    `pulumi preview` would: ids and computed outputs are unknown (`pulumi.output.Unknown` in the inputs).
    """
    loaded = stackfile.load(stack, root)
    values = dict(loaded.values)
    secret_keys = set(loaded.secret_keys)
    for key, value in (overrides or {}).items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = stackfile.encode(value)
    for key, value in (secrets or {}).items():
        values[key] = value
        secret_keys.add(key)

    region = values.get("aws:region", "us-east-1")
    entry_point = root / "__main__.py"

    def run() -> None:
        if program is not None:
            program()
        else:
            runpy.run_path(str(entry_point), run_name="__main__")

    with _as_language_host(root, values, secret_keys):
        return run_under_mocks(
            run, stack=stack, region=region, values=values, secret_keys=secret_keys, preview=preview
        )


def run_under_mocks(
    function: Callable[[], Any],
    *,
    stack: str = "test",
    region: str = "us-east-1",
    values: Mapping[str, str] | None = None,
    secret_keys: set[str] | None = None,
    preview: bool = False,
) -> Recording:
    """Run `function` (which creates resources) as a program under the recording mocks.

    For components that the program does not compose yet: their registrations are recorded exactly as
    `run_program` records the whole stack's, stack outputs included if `function` exports any.
    `preview=True` records as a first `pulumi preview` would (see `RecordingMocks`).
    """
    # Pulumi's SDK runs on the thread's current event loop; asyncio.run() (an async test) leaves none set.
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = RecordingMocks(region, preview=preview)
    monitor = RecordingMonitor(mocks)
    engine = _WarningCollector()
    pulumi_settings.reset_options(project=PROJECT, stack=stack)
    pulumi.runtime.set_all_config(dict(values or {}), sorted(secret_keys or set()))
    pulumi_mocks.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    pulumi_settings.SETTINGS.engine = engine
    with cyclic_gc_paused(), sdk_bookkeeping_skipped():
        _sync_await(run_pulumi_func(function))
        root_stack = pulumi_settings.get_root_resource()
        outputs = _resolve_outputs(getattr(root_stack, "outputs", {}))
    return Recording(stack=stack, resources=monitor.recorded, outputs=outputs, warnings=engine.warnings)


def _resolve_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name, value in outputs.items():
        output = pulumi.Output.from_input(value)
        resolved[name] = _sync_await(output.future())
    return resolved
