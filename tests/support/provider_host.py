"""Run a dynamic provider the way Pulumi's provider host does: dill-serialised, in a fresh interpreter.

`serialize_provider` is what `pulumi.dynamic.Resource` stores in state; the host decodes it in a new
process whose working directory is the project root. A provider that captured a client, a lock or a
module that is not importable there fails here exactly as it would under `pulumi up`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.support.mocks import ROOT

SCRIPT = (
    "import base64, dill, json, sys\n"
    "provider = dill.loads(base64.b64decode(sys.argv[1]))\n"
    "result = getattr(provider, sys.argv[2])(*json.loads(sys.argv[3]))\n"
    "print(json.dumps({'id': getattr(result, 'id', None), 'outs': getattr(result, 'outs', None)}))\n"
)


def call_in_provider_host(provider: Any, method: str, *args: Any) -> dict[str, Any]:
    """`provider.<method>(*args)` in a fresh interpreter; returns {"id": ..., "outs": ...}."""
    from pulumi.dynamic.dynamic import serialize_provider

    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, serialize_provider(provider), method, json.dumps(list(args))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result
