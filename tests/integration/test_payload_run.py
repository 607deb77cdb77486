"""A function that is not the probe, loaded with the user's own request on the local Lambda (real
awslambdaric environments): every invocation is confirmed by Lambda's request id (the response's
x-amzn-RequestId, the REPORT line's RequestId), counted once, with no probe record anywhere."""

import pytest

from loadgen.plan import Plan
from probe.local.local_lambda import LocalLambda
from tui.aws.target import Target
from tui.core.fleet.ledger import _SEEN_LOG, _SEEN_RESPONSE
from tui.core.snapshot import snapshot
from tui.methods.experiment import run_experiment

REQUESTS = 40


def _target(ll, request):
    key, secret = ll.credentials
    return Target(
        label="LOCAL",
        kind="local",
        function_name=ll.function_name,
        region=ll.region,
        log_group=ll.log_group,
        function_url=ll.function_url,
        invoke_endpoint=ll.invoke_endpoint,
        logs_endpoint=ll.logs_endpoint,
        local_credentials={"aws_access_key_id": key, "aws_secret_access_key": secret},
        simulated_hosts=True,
        timeout_s=ll.profile.timeout_s,
        request=request,
    )


@pytest.mark.parametrize(
    "request_shape",
    [
        {"payload": b'{"lines": 1}'},  # the Invoke API, the event as given
        {"method": "POST", "path": "/orders?id=7", "headers": [["x-user", "me"]], "body": b'{"lines": 1}'},
    ],
    ids=["invoke-payload", "url-body"],
)
async def test_a_users_handler_is_confirmed_by_request_id(request_shape, fake_aws_env):
    async with LocalLambda(handler="tests.local.handlers.behave") as ll:
        target = _target(ll, request_shape)
        spec = target.load_spec()
        assert spec["kind"] == ("invoke" if "payload" in request_shape else "url")
        result = await run_experiment(target, Plan("closed", 4, requests=REQUESTS), settle_timeout_s=60)
    fleet = result.fleet
    assert result.outcome_errors == {}
    assert fleet.counters.requests == REQUESTS
    # Every answer was matched to its REPORT line by request id: none missing, none twice.
    assert result.missing == 0 and fleet.unplaced == 0
    assert fleet.counters.invocations == REQUESTS
    assert sum(c.invocations for c in fleet.containers.values()) == REQUESTS
    assert sum(c.unconfirmed for c in fleet.containers.values()) == 0
    assert not fleet.probe_seen  # nothing came from a probe record
    # Both channels reported every request id: the answer's and the REPORT line's.
    assert result.log_only == 0
    both = _SEEN_RESPONSE | _SEEN_LOG
    assert sum(1 for entry in fleet._ledger.ids.values() if entry[0] & both == both) == REQUESTS
    doc = snapshot(fleet, now=result.finished_at, source=target.describe())
    serving = [c for c in doc["containers"] if c["invocations"]]
    assert serving and all(c["host_from"] == "no extension" for c in serving)
