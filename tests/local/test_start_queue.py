"""This machine's start queue never passes for Lambda's scaling (issue 17): environments Lambda
would start together log INIT_START together, however few inits this machine runs at a time,
and the time they queued here is reported apart (environment info, the status endpoint), never
in Init Duration or the stream's timeline."""

import asyncio
import time

from loadgen.fastclient import FastClient
from loadgen.outcome import HOLD_HEADER, SENT_AT_HEADER, new_request_id
from loadgen.targets import UrlTarget
from probe.local import LocalLambda, load_profile
from probe.local.capacity import LOCAL_LIMIT_HEADER, LOCAL_REASON, START_QUEUE_MAX_S
from tests.local.conftest import assert_nothing_left, fetch_events, hammer
from tui.core.analysis import analyze
from tui.core.events import LogEvent

CLIENTS = 20
CLIENTS_AT_ONCE = 200


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


async def test_two_hundred_clients_opening_at_once_on_scale_are_one_wave(http):
    """The first requests of many clients reach the local Lambda together: the front door's
    accept queue holds them all (with aiohttp's default of 128, the 129th connection waited for
    the kernel's SYN retry, a second later, and the findings told 'wave 2'), and however long
    this loop then takes to get to each, its INIT_START is when the client sent it (the load
    generator's header), as Lambda would have started it (before: 79 at +0.0 s, 121 at +0.3 s)."""
    prof = load_profile("scale")
    client = FastClient(limit=CLIENTS_AT_ONCE, timeout=60, connect_timeout=30)
    await client.start()
    try:
        async with LocalLambda(prof) as ll:
            target = UrlTarget(ll.function_url)
            # Each holds its environment 1 s: 200 start. Opened in one go, from this loop: no
            # accept can run before every connect is made.
            requests = [target.prepare(new_request_id(), hold_ms=1000) for _ in range(CLIENTS_AT_ONCE)]
            results = await asyncio.gather(*(client.request(*r) for r in requests))
            assert [status for status, _, _ in results] == [200] * CLIENTS_AT_ONCE
            raw = await fetch_events(
                ll,
                want=lambda evs: sum(e["message"].startswith("REPORT") for e in evs) >= CLIENTS_AT_ONCE,
                timeout=30,
            )
            envs = ll.environments
            async with http.get(ll.status_url) as resp:
                status = await resp.json()
    finally:
        await client.close()
    assert_nothing_left(ll)
    assert len(envs) == CLIENTS_AT_ONCE
    # The delay is this machine's, and said so: the start queue counts it.
    assert status["queued_starts"] > 0
    events = [LogEvent(e["logStreamName"], e["timestamp"], e["message"]) for e in raw]
    doc = analyze(events, {"kind": "test"})
    waves = [f for f in doc["findings"] if f["kind"] == "wave"]
    assert [w["size"] for w in waves] == [CLIENTS_AT_ONCE], [w["text"] for w in waves]


async def test_a_cold_start_is_stamped_when_the_client_sent_its_request(http):
    """INIT_START carries the load generator's send time when this machine got to the request
    later, and the difference is this machine's queue; a send time too old (another clock) or
    not a number is ignored."""
    async with LocalLambda(load_profile("scale")) as ll:
        before = time.time()
        asked = round(before - 0.5, 3)

        async def one(sent: str) -> str:
            # Held 1 s each, so the four overlap and each starts an environment of its own.
            headers = {SENT_AT_HEADER: sent, HOLD_HEADER: "1000"}
            async with http.get(ll.function_url, headers=headers) as resp:
                return (await resp.json())["container_id"]

        good, *ignored = await asyncio.gather(one(f"{asked:.3f}"), one(f"{before - 3600:.3f}"), one("soon"), one("nan"))
        raw = await fetch_events(ll, want=lambda evs: sum(e["message"].startswith("REPORT") for e in evs) >= 4)
        envs = {e["stream"]: e for e in ll.environments}
    assert_nothing_left(ll)
    starts = {e["logStreamName"]: e["timestamp"] for e in raw if e["message"].startswith("INIT_START")}
    assert len(starts) == 4
    assert starts[good] == int(asked * 1000)
    assert envs[good]["local_queue_ms"] >= 500
    assert all(starts[stream] >= int(before * 1000) for stream in ignored)
