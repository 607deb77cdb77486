"""Fixtures for the load generator's tests: real aiohttp servers on 127.0.0.1, a refused port."""

import socket

import pytest

from tests.loadgen.fakeserver import Server


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch, tmp_path):
    # No real AWS: a fixed fake identity, no shared config, no instance-metadata lookups.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


@pytest.fixture
async def server():
    async with Server() as srv:
        yield srv


@pytest.fixture
def refused_url():
    """A port nothing listens on: bound (so nobody else takes it) but never listening."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    yield f"http://127.0.0.1:{port}/ok"
    sock.close()
