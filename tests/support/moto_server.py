"""A moto server on 127.0.0.1 for the test session, so boto3 code under test talks real HTTP.

The `aws` fixture points boto3 at it through `AWS_ENDPOINT_URL` with fake credentials and no shared
config, so nothing can reach a real AWS account; moto's state is reset between tests.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


@dataclass(frozen=True)
class MotoEndpoint:
    """Where the session's moto server listens."""

    url: str

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[MotoEndpoint]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield MotoEndpoint(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture
def aws(
    moto_endpoint: MotoEndpoint, monkeypatch: pytest.MonkeyPatch, tmp_path_factory
) -> Iterator[MotoEndpoint]:
    """boto3 clients made inside the test reach moto, with fake credentials, and nothing else."""
    empty = tmp_path_factory.mktemp("aws-config") / "none"
    empty.write_text("")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    moto_endpoint.reset()
    yield moto_endpoint
