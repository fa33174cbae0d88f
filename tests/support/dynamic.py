"""Run a dynamic provider the way Pulumi's provider host does: dill-pickled, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

from tests.support.mocks import ROOT

_CREATE = (
    "import base64, dill, json, sys\n"
    "provider = dill.loads(base64.b64decode(sys.argv[1]))\n"
    "print(json.dumps(provider.create(json.loads(sys.argv[2])).outs))\n"
)


def create_in_fresh_interpreter(provider: ResourceProvider, props: dict[str, Any]) -> dict[str, Any]:
    """Pickle `provider` as Pulumi does, unpickle it in a new process run from the project root, call
    `create(props)` there and return its outputs. The environment (e.g. AWS_ENDPOINT_URL) is inherited."""
    done = subprocess.run(
        [sys.executable, "-c", _CREATE, serialize_provider(provider), json.dumps(props)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    outs: dict[str, Any] = json.loads(done.stdout)
    return outs
