"""This machine's start queue never passes for Lambda's scaling (issue 17): environments Lambda
would start together log INIT_START together, however few inits this machine runs at a time,
and the time they queued here is reported apart (environment info, the status endpoint), never
in Init Duration or the stream's timeline."""

import asyncio

from probe.local import LocalLambda, load_profile
from probe.local.capacity import LOCAL_LIMIT_HEADER, LOCAL_REASON, START_QUEUE_MAX_S
from tests.local.conftest import assert_nothing_left, fetch_events, hammer
from tui.core.analysis import analyze
from tui.core.events import LogEvent

CLIENTS = 20


async def test_twenty_clients_on_today_are_one_wave_however_few_inits_run_here(http):
    prof = load_profile("today")
    prof.init_slots = 4  # fewer than the clients on any machine: most inits must queue here
    async with LocalLambda(prof, handler="tests.local.handlers.behave") as ll:
        # Each request holds its environment a moment, so the first 20 overlap and 20 start.
        results = await hammer(ll.function_url, 3 * CLIENTS, CLIENTS, http, json={"sleep": 0.2})
        assert [status for status, _ in results] == [200] * (3 * CLIENTS)
        raw = await fetch_events(ll, want=lambda evs: sum(e["message"].startswith("REPORT") for e in evs) >= 60)
        async with http.get(ll.status_url) as resp:
            status = await resp.json()
        envs = ll.environments
    assert_nothing_left(ll)

    assert len(envs) == CLIENTS
    # The local machine did queue them (4 at a time), and says how long, per environment.
    assert status["max_starting"] == 4 and status["queued_starts"] >= CLIENTS - 4 - 1
    assert status["local_queue_ms_max"] > 0
    assert all(e["local_queue_ms"] is not None for e in envs)
    # ... but the logs carry Lambda's timeline: one wave of 20, as Lambda would start them.
    events = [LogEvent(e["logStreamName"], e["timestamp"], e["message"]) for e in raw]
    doc = analyze(events, {"kind": "test"})
    waves = [f for f in doc["findings"] if f["kind"] == "wave"]
    assert [w["size"] for w in waves] == [CLIENTS], [w["text"] for w in waves]
    assert doc["totals"]["cold_starts"] == CLIENTS


async def test_a_start_this_machine_cannot_run_before_the_client_gives_up_gets_a_local_429(http):
    prof = load_profile("today")
    prof.init_slots = 1
    prof.queue_wait_s = 0.0
    async with LocalLambda(prof, handler="tests.local.slow_init.handler") as ll:
        # As if an init took that long here: a second one would queue past the bound.
        ll.fleet.init_s = START_QUEUE_MAX_S + 1

        async def one():
            async with http.post(ll.function_url, json={}) as resp:
                return resp.status, resp.headers.get(LOCAL_LIMIT_HEADER)

        async with asyncio.timeout(30):
            first = asyncio.ensure_future(one())
            while not ll.fleet.live:  # the first environment is starting (its init takes 1 s)
                await asyncio.sleep(0.01)
            second = await one()
            assert await first == (200, None)
        assert second == (429, "local-machine")
        async with http.get(ll.status_url) as resp:
            status = await resp.json()
        assert status["local_limited"] == 1 and status["throttles"] == {LOCAL_REASON: 1}
        assert len(ll.environments) == 1
    assert_nothing_left(ll)
