"""The Runner against real aiohttp servers on 127.0.0.1 (and a refused port).

No timing asserts that can flake: counts are exact because the schedule decides them, and
anything measured in time is compared with a margin many times what a loaded machine needs.
"""

import asyncio
import contextlib

import pytest

from loadgen.errors import CredentialsError
from loadgen.plan import Plan
from loadgen.runner import Runner
from loadgen.targets import UrlTarget

CLIENTS = ["aiohttp", "fast"]


async def collect(runner):
    return [o async for batch in runner.run() for o in batch]


class Background:
    """Consume a run in a task, so the test can steer it meanwhile."""

    def __init__(self, runner):
        self.runner = runner
        self.outcomes = []
        self.task = asyncio.get_running_loop().create_task(self._consume())

    async def _consume(self):
        async for batch in self.runner.run():
            self.outcomes.extend(batch)

    async def until(self, condition, timeout=10.0):
        async with asyncio.timeout(timeout):
            while not condition():
                assert not self.task.done(), "the run ended early"
                await asyncio.sleep(0.01)

    async def stop(self):
        self.runner.stop()
        await asyncio.wait_for(self.task, 10)


@pytest.mark.parametrize("client", CLIENTS)
async def test_closed_loop_sends_exactly_the_requested_count(server, client):
    outcomes = await collect(Runner(UrlTarget(f"{server.url}/ok"), Plan("closed", 8, requests=300), client=client))
    assert len(outcomes) == 300 == server.state.hits
    assert sorted(o.seq for o in outcomes) == list(range(300))
    assert all(o.error is None and o.status == 200 for o in outcomes)
    assert all(o.record["client_request_id"] == o.client_request_id for o in outcomes)
    assert len({o.client_request_id for o in outcomes}) == 300
    assert {o.container_id for o in outcomes} == set(server.state.containers)
    assert sum(o.cold for o in outcomes) == len(server.state.containers)
    assert all(o.latency_ms > 0 and o.sent_at >= o.scheduled_at for o in outcomes)


@pytest.mark.parametrize("client", CLIENTS)
async def test_every_failure_is_classified_and_none_counts_as_success(server, refused_url, client):
    def run(url, n=40, **kwargs):
        return collect(Runner(UrlTarget(url), Plan("closed", 4, requests=n), client=client, **kwargs))

    mixed = await run(f"{server.url}/mixed")
    assert sorted(o.error or "ok" for o in mixed).count("ok") == 20
    assert [o.error for o in mixed].count("throttled") == 10
    assert [o.error for o in mixed].count("http_5xx") == 10
    assert {o.status for o in mixed if o.error == "throttled"} == {429}

    closed = await run(f"{server.url}/close")
    assert {o.error for o in closed} == {"reset"} and len(closed) == 40

    refused = await run(refused_url)
    assert {o.error for o in refused} == {"refused"} and len(refused) == 40
    assert all(o.status is None and o.record is None and o.detail for o in refused)

    slow = await run(f"{server.url}/slow?ms=3000", n=4, timeout=0.2)
    assert {o.error for o in slow} == {"timeout"}


@pytest.mark.parametrize("client", CLIENTS)
async def test_open_loop_sends_its_rate_exactly_over_a_duration(server, client):
    runner = Runner(UrlTarget(f"{server.url}/ok"), Plan("open", 200, duration=1.0), client=client)
    outcomes = sorted(await collect(runner), key=lambda o: o.seq)
    # Arrivals at 0, 5 ms, ... 995 ms: the count is the schedule's, not the machine's.
    assert len(outcomes) == 200 == server.state.hits
    gaps = [b.scheduled_at - a.scheduled_at for a, b in zip(outcomes, outcomes[1:])]
    assert min(gaps) == pytest.approx(0.005, abs=1e-6)
    assert max(gaps) == pytest.approx(0.005, abs=1e-6)
    assert runner.held_back == 0


async def test_open_loop_does_not_slow_down_when_responses_do(server):
    # 100/s for 1 s against 300 ms responses: a closed loop of one would need 30 s.
    runner = Runner(UrlTarget(f"{server.url}/slow?ms=300"), Plan("open", 100, duration=1.0))
    outcomes = await collect(runner)
    assert len(outcomes) == 100 and all(o.ok for o in outcomes)
    sent = sorted(o.sent_at for o in outcomes)
    assert sent[-1] - sent[0] < 5.0
    assert server.state.max_active >= 10


async def test_the_in_flight_cap_holds_arrivals_back_and_the_wait_shows(server):
    plan = Plan("open", 200, duration=1.0, max_in_flight=2)
    runner = Runner(UrlTarget(f"{server.url}/slow?ms=100"), plan, client="fast")
    outcomes = await collect(runner)
    assert server.state.max_active <= 2
    assert runner.held_back > 100  # ~180 of 200 arrivals found no free slot
    assert max(o.lateness_ms for o in outcomes) > 100  # queueing shows, not hidden
    assert runner.snapshot().held_back == runner.held_back


async def test_pause_sends_nothing_and_resume_continues(server):
    run = Background(Runner(UrlTarget(f"{server.url}/slow?ms=20"), Plan("closed", 2)))
    await run.until(lambda: len(run.outcomes) >= 10)
    plan = run.runner.plan
    run.runner.apply(plan.with_paused(True))
    await run.until(lambda: run.runner.in_flight == 0)
    sent = run.runner.sent
    await asyncio.sleep(0.3)
    assert run.runner.sent == sent and run.runner.paused
    run.runner.apply(plan)
    assert not run.runner.paused
    await run.until(lambda: run.runner.sent >= sent + 10)
    await run.stop()
    assert len(run.outcomes) == run.runner.sent


async def test_a_new_level_takes_effect_both_ways(server):
    state = server.state
    run = Background(Runner(UrlTarget(f"{server.url}/slow?ms=50"), Plan("closed", 1)))
    await run.until(lambda: len(run.outcomes) >= 3)
    assert state.max_active == 1
    run.runner.apply(Plan("closed", 6))
    await run.until(lambda: state.max_active == 6)
    run.runner.apply(Plan("closed", 2))
    await run.until(lambda: run.runner.in_flight <= 2)  # the four extra leave after their request
    state.max_active = 0
    await run.until(lambda: len(run.outcomes) >= 40)
    await asyncio.sleep(0.2)
    assert state.max_active <= 2
    await run.stop()


async def test_a_plan_switches_between_closed_and_open(server):
    run = Background(Runner(UrlTarget(f"{server.url}/ok"), Plan("closed", 2, max_in_flight=100)))
    await run.until(lambda: len(run.outcomes) >= 20)
    run.runner.apply(Plan("open", 50, max_in_flight=7, requests=3))
    # Mode and level from the plan; the limits stay the run's own.
    assert run.runner.plan == Plan("open", 50, max_in_flight=100)
    before = run.runner.sent
    await run.until(lambda: run.runner.sent >= before + 10)
    spaced = sorted((o for o in run.outcomes if o.seq >= before), key=lambda o: o.seq)[:5]
    gaps = {round(b.scheduled_at - a.scheduled_at, 6) for a, b in zip(spaced, spaced[1:])}
    assert gaps == {0.02}  # 50/s on the schedule
    run.runner.apply(Plan("closed", 3))
    assert run.runner.plan == Plan("closed", 3, max_in_flight=100)
    before = run.runner.sent
    await run.until(lambda: run.runner.sent >= before + 10)
    await run.stop()
    assert run.runner.snapshot().plan.mode == "closed"


async def test_stop_reports_requests_still_outstanding_after_the_grace(server):
    run = Background(Runner(UrlTarget(f"{server.url}/slow?ms=5000"), Plan("closed", 3), stop_grace=0.2))
    await run.until(lambda: server.state.active == 3)
    async with asyncio.timeout(3):  # the grace is 0.2 s: the 5 s requests are not waited out
        await run.stop()
    assert len(run.outcomes) == 3
    assert {o.error for o in run.outcomes} == {"other"}
    assert all(o.detail.startswith("cancelled") for o in run.outcomes)


async def test_closed_loop_with_a_duration_stops_by_itself(server):
    runner = Runner(UrlTarget(f"{server.url}/slow?ms=10"), Plan("closed", 2, duration=0.5))
    async with asyncio.timeout(5):
        outcomes = await collect(runner)
    assert outcomes
    first = min(o.sent_at for o in outcomes)
    assert all(o.sent_at - first < 0.5 + 0.05 for o in outcomes)


async def test_a_slow_consumer_slows_the_load_but_loses_nothing(server):
    runner = Runner(UrlTarget(f"{server.url}/ok"), Plan("closed", 4, requests=200), max_batch=5, max_queued_batches=2)
    seen = 0
    async for batch in runner.run():
        assert len(batch) <= 5 + 4  # one batch, plus one outcome per worker waiting to add
        seen += len(batch)
        await asyncio.sleep(0.005)
    assert seen == 200


class FailingTarget(UrlTarget):
    def __init__(self, url, after):
        super().__init__(url)
        self.after = after

    def prepare(self, client_request_id, hold_ms=0):
        self.after -= 1
        if self.after < 0:
            raise CredentialsError("AWS credentials could not be refreshed: expired")
        return super().prepare(client_request_id, hold_ms)


async def test_a_broken_target_ends_the_run_with_its_error(server):
    runner = Runner(FailingTarget(f"{server.url}/ok", after=5), Plan("closed", 2))
    with pytest.raises(CredentialsError, match="could not be refreshed"):
        await asyncio.wait_for(collect(runner), 10)


async def test_leaving_early_cleans_up(server):
    runner = Runner(UrlTarget(f"{server.url}/ok"), Plan("open", 500))
    async with contextlib.aclosing(runner.run()) as batches:
        async for batch in batches:
            if batch:
                break
    # Closing the generator awaits the clean-up: nothing is left once aclose() returns.
    assert runner.in_flight == 0
    assert not runner._tasks


@pytest.mark.parametrize("client", CLIENTS)
async def test_invoke_api_with_log_tail(server, client):
    from botocore.credentials import Credentials

    from loadgen.targets import InvokeTarget

    target = InvokeTarget(server.url, "probe", "us-east-1", Credentials("AKID", "SECRET"), log_tail=True)
    outcomes = await collect(Runner(target, Plan("closed", 2, requests=12), client=client))
    assert len(outcomes) == 12 and all(o.ok for o in outcomes)
    assert all(o.record["client_request_id"] == o.client_request_id for o in outcomes)
    # The fake REPORT line has Init Duration on cold starts only: the cross-check agrees.
    assert all((o.init_duration_ms is not None) == o.cold for o in outcomes)
    assert sum(o.cold for o in outcomes) == len(server.state.containers)
