"""Shared fixtures: moto's server out of process on 127.0.0.1, and an environment with fake AWS
credentials that can only ever reach it.

pytest finds the fixtures by name; constants (FAKE_ACCESS_KEY, ...) are imported from
`tests.integration.conftest`.

Out of process, because werkzeug writes an access line per request in process (MEASURED.md);
one server per test module, because starting one costs ~1 s of a shared core; state is reset
before each test that asks for `moto_endpoint`. The process is the product's own launcher (probe/local/moto_server.py).
"""

import urllib.request

import pytest

from probe.local.moto_server import MotoServer

FAKE_ACCESS_KEY = "AKIAFAKEFAKEFAKE1234"
FAKE_SECRET_KEY = "fAkEsEcReT/kEy+NeVeR+pRiNtEd0123456789aB"
FAKE_REGION = "us-east-1"
_CREDENTIAL_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
)


@pytest.fixture(scope="module")
def moto_server():
    """Base URL of a moto server for one test module (probe/local/moto_server.py runs it)."""
    server = MotoServer().start_blocking()
    try:
        yield server.endpoint
    finally:
        server.stop_blocking()


@pytest.fixture
def moto_endpoint(moto_server):
    """The moto URL, with every service's state wiped first."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    return moto_server


@pytest.fixture
def fake_aws_env(monkeypatch, tmp_path):
    """Fake keys, a region, empty AWS config files and no instance metadata: whatever the machine
    has in ~/.aws, no real credential can be picked up. Returns the fake secret to look for."""
    for var in _CREDENTIAL_VARS:
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "aws-config").write_text("")
    (tmp_path / "aws-credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", FAKE_REGION)
    return FAKE_SECRET_KEY
