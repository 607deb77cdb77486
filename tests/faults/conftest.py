"""The fault suite's shared parts: one local Lambda for the module (real awslambdaric
environments, moto's server for CloudWatch Logs), fake AWS keys for the Invoke API's SigV4, the
log group read directly, and the suite's tally (printed in the terminal summary).
"""

import asyncio
import os
import re
from dataclasses import dataclass

import aioboto3
import pytest
import pytest_asyncio

from tests.figures import add_figure
from tests.integration.conftest import fake_aws_env, moto_endpoint, moto_server  # noqa: F401 (fixtures)

_REPORT = re.compile(r"^REPORT RequestId: (\S+)")


@dataclass
class Tally:
    scenarios: set
    runs: int = 0
    checked: int = 0
    lost: int = 0
    double: int = 0

    def add(self, scenario: str, direct: int, counted: int) -> None:
        self.scenarios.add(scenario)
        self.runs += 1
        self.checked += direct
        self.lost += max(0, direct - counted)
        self.double += max(0, counted - direct)
        add_figure(
            "faults",
            f"fault suite: {len(self.scenarios)} scenarios, {self.runs} runs, {self.checked} "
            f"invocations checked against the log group, {self.lost} lost, {self.double} "
            "double-counted",
        )


TALLY = Tally(set())


@pytest.fixture(scope="module")
def fake_keys():
    """Fake keys (the Invoke API is SigV4-signed; the local Lambda accepts any) and no real AWS
    configuration, for the whole module."""
    with pytest.MonkeyPatch.context() as mp:
        for var in list(os.environ):
            if var.startswith("AWS_"):
                mp.delenv(var)
        mp.setenv("AWS_ACCESS_KEY_ID", "AKIAFAULTSUITE000000")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "fault/suite+secret+key+0123456789abcdefgh")
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def local(fake_keys):
    """The local Lambda and its Target, for every scenario of the module (one start, ~2 s)."""
    from tui.aws.target import LocalTarget

    async with LocalTarget() as target:
        yield target


async def invocations_in_group(target, since_ms: int, at_least: int, timeout: float = 15.0) -> int:
    """Distinct request ids with a REPORT line in the group since `since_ms`, read directly from
    the logs endpoint (no proxy). Logs are shipped asynchronously: read until the count reaches
    `at_least` and stays put over one more read."""
    session = aioboto3.Session()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    previous = -1
    async with session.client(
        "logs", endpoint_url=target.logs_endpoint, region_name=target.region, **target.local_credentials
    ) as logs:
        while True:
            ids, token = set(), None
            while True:
                kwargs = {"logGroupName": target.log_group, "startTime": since_ms}
                if token:
                    kwargs["nextToken"] = token
                page = await logs.filter_log_events(**kwargs)
                for e in page.get("events", ()):
                    m = _REPORT.match(e.get("message", ""))
                    if m:
                        ids.add(m.group(1))
                token = page.get("nextToken")
                if not token:
                    break
            if (len(ids) >= at_least and len(ids) == previous) or loop.time() > deadline:
                return len(ids)
            previous = len(ids)
            await asyncio.sleep(0.3)
