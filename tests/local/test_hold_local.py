"""The hold on real `awslambdaric` environments: the probe clamps a hold to the invocation's time
left (the runtime's deadline) and says so, so a hold never times the environment out; and the
local Lambda answers GetAccountSettings and GetFunctionConcurrency from its own limits, in AWS's
wire format, read with aioboto3's own client."""

import aioboto3
from aiobotocore.config import AioConfig

from probe.local import LocalLambda, load_profile
from tests.local.conftest import assert_nothing_left

NO_RETRY = AioConfig(retries={"total_max_attempts": 1}, inject_host_prefix=False)


def _profile(**knobs):
    prof = load_profile()
    for key, value in knobs.items():
        setattr(prof, key, value)
    return prof


def _lambda(endpoint_url):
    return aioboto3.Session().client(
        "lambda",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        config=NO_RETRY,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


async def test_the_probe_clamps_a_hold_to_its_deadline_and_says_so(http):
    async with LocalLambda(_profile(timeout_s=1.0)) as ll:
        # A function URL carries the hold as a header; the Invoke API in the event.
        async with http.get(ll.function_url, headers={"x-lambdascope-hold-ms": "5000"}) as resp:
            assert resp.status == 200
            first = await resp.json()
        assert first["hold_ms"] == 5000 and first["hold_clamped"] is True
        assert 0 <= first["held_ms"] <= 1000 - 100  # the deadline less the probe's margin
        async with http.post(_invoke_url(ll), json={"hold_ms": 200}) as resp:
            assert resp.status == 200 and "X-Amz-Function-Error" not in resp.headers
            rec = await resp.json()
        assert (rec["hold_ms"], rec["held_ms"], rec["hold_clamped"]) == (200, 200, False)
        # The clamped invocation answered in time: its environment was not reset by a timeout
        # (Lambda ends an environment that times out) and serves the next request warm.
        assert rec["container_id"] == first["container_id"] and rec["cold"] is False
    assert_nothing_left(ll)


def _invoke_url(ll):
    return f"{ll.invoke_endpoint}/2015-03-31/functions/{ll.function_name}/invocations"


async def test_get_account_settings_answers_from_the_local_limits():
    async with LocalLambda(_profile(concurrency_limit=7)) as ll, _lambda(ll.invoke_endpoint) as lam:
        settings = await lam.get_account_settings()
        limit = settings["AccountLimit"]
        assert limit["ConcurrentExecutions"] == 7 and limit["UnreservedConcurrentExecutions"] == 7
        assert limit["CodeSizeZipped"] == 52_428_800 and limit["CodeSizeUnzipped"] == 262_144_000
        assert settings["AccountUsage"]["FunctionCount"] == 1 and settings["AccountUsage"]["TotalCodeSize"] > 0
        # No reservation locally: Lambda answers a function without one with no field at all.
        reserved = await lam.get_function_concurrency(FunctionName=ll.function_name)
        assert "ReservedConcurrentExecutions" not in reserved
        try:
            await lam.get_function_concurrency(FunctionName="no-such-fn")
        except lam.exceptions.ResourceNotFoundException as exc:
            assert "Function not found" in str(exc)
        else:
            raise AssertionError("an unknown function's concurrency must be a 404")
    assert_nothing_left(ll)
