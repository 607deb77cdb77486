"""What `run` says at the end, for each way the settle can end: it claims "logs confirmed all N"
only when the logs account for every answered invocation and every unknown request, and its
summary names what is missing or unknown. (The fault suite checks the numbers behind it.)"""

import pytest

from tui.commands.run import _summary
from tui.core.fleet import Fleet
from tui.methods.experiment import Result


def result(*, invocations=10, missing=0, unknown=0, log_only=0, lag=0.4, error=None) -> Result:
    fleet = Fleet()
    fleet.counters.requests = 10 + unknown
    fleet.counters.invocations = invocations
    fleet.counters.errors = unknown
    return Result(
        fleet,
        wall_s=3.0,
        load_s=2.0,
        log_lag_s=lag,
        missing=missing,
        source_requests=5,
        finished_at=0.0,
        unknown=unknown,
        log_only=log_only,
        source_error=error,
        outcome_errors={"reset": unknown} if unknown else {},
    )


@pytest.mark.parametrize(
    "r, says, never",
    [
        (result(), "logs confirmed all 10 invocations 0.40 s", "unknown"),
        (result(invocations=13, unknown=3, log_only=3), "the logs show 3 of them ran", "unknown"),
        (result(unknown=3, log_only=1), "2 unknown", "confirmed all"),
        (
            result(missing=2, lag=None, error="FilterLogEvents throttled (ThrottlingException); slowing down"),
            "never reported 2 of 10",
            "confirmed all",
        ),
    ],
)
def test_the_summary_claims_all_only_when_all_are_accounted_for(r, says, never):
    text = _summary(r)
    assert says in text and never not in text, text
    assert "\n" not in text


def test_an_unaccounted_request_is_counted_and_the_source_named():
    r = result(unknown=4, log_only=0, error="logs endpoint: ServerDisconnectedError; retrying")
    assert r.unaccounted == 4
    assert "log source: logs endpoint: ServerDisconnectedError" in _summary(r)
