"""A small probe-like HTTP server on 127.0.0.1 for the load generator's tests and benchmark.

It answers the way a function URL (or the Invoke API) answering with the probe does: a JSON
record naming a container, with `cold` true on a container's first request. Paths pick a
behaviour so one server covers every case the runner must classify:

  /ok            the probe record (any method)
  /fast          a pre-built record per container, cycled (the benchmark's cheapest answer)
  /throttle      429 TooManyRequestsException, as Lambda throttles
  /error         500
  /slow?ms=N     the record after N milliseconds
  /close         drops the connection without an answer
  /mixed         cycles ok, ok, 429, 500 (deterministic, per server)
  /echo[/...]    what was received: method, raw path, headers, body (for signing tests)
  /2015-03-31/functions/{name}/invocations   the Invoke API shape (`X-Amz-Executed-Version`)

Run it alone (for the benchmark, in its own process) with
`python -m tests.loadgen.fakeserver [--port N]`; it prints `PORT <n>` once it listens.
"""

import argparse
import asyncio
import base64
import itertools
import json
import sys
import uuid

from aiohttp import web

CONTAINERS = 4


class ProbeLike:
    """State shared by the handlers: which containers were seen, the /mixed cycle, counts."""

    def __init__(self, containers=CONTAINERS):
        self.containers = [f"2026/11/27/[$LATEST]{uuid.uuid4().hex}" for _ in range(containers)]
        self.seen = set()
        self.turn = itertools.cycle(self.containers)
        self.mixed = itertools.cycle(("ok", "ok", "throttle", "error"))
        self.hits = 0
        self.active = 0  # /slow requests being served now, and the most at once
        self.max_active = 0

    def record(self, request):
        container = next(self.turn)
        cold = container not in self.seen
        self.seen.add(container)
        return {
            "lambdascope": 1,
            "container_id": container,
            "request_id": str(uuid.uuid4()),
            "client_request_id": request.headers.get("x-lambdascope-request-id"),
            "cold": cold,
            "hostname": "fake-host",
            "cpu_model": "Fake CPU @ 2.50GHz",
        }


def _ok(state, request):
    return web.json_response(state.record(request))


def _throttle():
    return web.json_response(
        {"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."},
        status=429,
        headers={"x-amzn-ErrorType": "TooManyRequestsException"},
    )


def _error():
    return web.json_response({"message": "Internal Server Error"}, status=500)


def build_app(state=None):
    state = state or ProbeLike()
    app = web.Application()

    async def ok(request):
        state.hits += 1
        await request.read()
        return _ok(state, request)

    fast_bodies = itertools.cycle(
        [
            json.dumps(
                {"lambdascope": 1, "container_id": c, "request_id": "fast", "cold": False, "hostname": "fake-host"}
            ).encode()
            for c in state.containers
        ]
    )

    async def fast(request):
        # The least work a server can do per request, so a benchmark measures the client.
        state.hits += 1
        return web.Response(body=next(fast_bodies), content_type="application/json")

    async def throttle(request):
        state.hits += 1
        return _throttle()

    async def error(request):
        state.hits += 1
        return _error()

    async def slow(request):
        state.hits += 1
        state.active += 1
        state.max_active = max(state.max_active, state.active)
        try:
            await asyncio.sleep(int(request.query.get("ms", "100")) / 1000)
        finally:
            state.active -= 1
        return _ok(state, request)

    async def close(request):
        state.hits += 1
        # Drop the connection mid-request: the client sees a disconnect, never a status.
        request.transport.close()
        await asyncio.sleep(0)
        raise ConnectionResetError("closed by the fake server")

    async def mixed(request):
        state.hits += 1
        kind = next(state.mixed)
        if kind == "throttle":
            return _throttle()
        if kind == "error":
            return _error()
        return _ok(state, request)

    async def echo(request):
        state.hits += 1
        body = await request.read()
        return web.json_response(
            {
                # Marked as the probe's record, which is the only answer the runner keeps whole.
                "lambdascope": 1,
                "method": request.method,
                "raw_path": request.raw_path,
                "headers": [[k, v] for k, v in request.headers.items()],
                "body": base64.b64encode(body).decode(),
            }
        )

    async def invoke(request):
        state.hits += 1
        body = await request.read()
        event = json.loads(body or b"{}")
        rec = state.record(request)
        rec["client_request_id"] = event.get("client_request_id")
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        if request.headers.get("X-Amz-Log-Type") == "Tail":
            tail = (
                f"START RequestId: {rec['request_id']}\nEND RequestId: {rec['request_id']}\n"
                f"REPORT RequestId: {rec['request_id']}\tDuration: 1.00 ms\t"
                f"Billed Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t"
                + ("Init Duration: 123.45 ms\t" if rec["cold"] else "")
                + "\n"
            )
            headers["X-Amz-Log-Result"] = base64.b64encode(tail.encode()).decode()
        return web.json_response(rec, headers=headers)

    app.router.add_route("*", "/ok", ok)
    app.router.add_route("*", "/fast", fast)
    app.router.add_route("*", "/throttle", throttle)
    app.router.add_route("*", "/error", error)
    app.router.add_route("*", "/slow", slow)
    app.router.add_route("*", "/close", close)
    app.router.add_route("*", "/mixed", mixed)
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/echo/{tail:.*}", echo)
    app.router.add_post("/2015-03-31/functions/{name}/invocations", invoke)
    return app


class Server:
    """`async with Server() as srv:` runs the app on 127.0.0.1 at a free port (`srv.url`)."""

    def __init__(self, state=None):
        self.state = state or ProbeLike()
        self._runner = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self):
        # shutdown_timeout short: a parked /slow request must not hold the test for 60 s.
        self._runner = web.AppRunner(build_app(self.state), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc):
        await self._runner.cleanup()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    async def serve():
        runner = web.AppRunner(build_app(), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", args.port).start()
        print(f"PORT {runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
