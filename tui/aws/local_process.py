"""The local Lambda in a process of its own: `lambdascope local`, started by the command that
uses it, reached through the endpoints line it prints, as any SDK would reach it.

Why apart: the local Lambda serves every request of the load and every call of its environments
(each invocation is a Runtime API `next` and a response, plus its log lines and their shipping).
In the monitor's process all of that shares one event loop and one GIL with the screen: at 1,000
environments held 2 s (`watch --concurrency 1000 --hold 2s --logs kinesis`), the monitor redrew
3.22 times a second embedded against 3.83 apart, one run side by side (tests/bench/
bench_watch_scale.py). Apart, each has a core of its own. It costs a second interpreter's start
(a 200-request `run` took 3.0-3.5 s apart against 2.3-2.4 s embedded, busy machine), so `watch`
(a session whose keys can take it to 1,000 environments) always runs it apart, `run` from
APART_FROM environments at once (`apart_for`), and tests that reach into the LocalLambda keep it
embedded.

Its stdout carries one JSON line and nothing more; its stderr is read all along (a pipe nobody
reads would fill and stop it) and its last lines kept, so a start that fails says why in one line.
It stops with us: SIGINT, as Ctrl-C would (it stops every process it started), then a kill.
If we are killed outright (SIGKILL: no clean-up of ours runs), the kernel sends it that SIGINT
itself (`local --stop-with PID`, probe/local/procs.stop_with_parent), so it never serves on alone.
"""

import asyncio
import json
import os
import signal
import sys
from collections import deque
from contextlib import asynccontextmanager

from tui.core.errors import UserError

APART_FROM = 100  # environments at once: below, the embedded one starts sooner and keeps up
START_TIMEOUT_S = 120.0  # moto, the fleet, a Kinesis channel: seconds on a busy machine
STOP_TIMEOUT_S = 30.0  # it retires every environment first
MAX_LINE = 1 << 20  # the endpoints line is a few hundred bytes
ERROR_PREFIX = "lambdascope: error: "


def apart_for(plan, ramp_plan=None) -> bool:
    """Whether a load asks for enough environments at once to give the local Lambda a core."""
    peak = plan.concurrency or 0
    if ramp_plan is not None:
        peak = max([peak] + [max(s.start, s.end) for s in ramp_plan.stages if s.mode == "closed"])
    return peak >= APART_FROM


def command(profile_file, concurrency_limit, kinesis, handler, layers) -> list[str]:
    """`lambdascope local` with what the caller asked of its local Lambda."""
    argv = [sys.executable, "-m", "tui.cli", "local", "--port", "0", "--stop-with", str(os.getpid())]
    if profile_file:
        argv += ["--profile-file", profile_file]
    if concurrency_limit is not None:
        argv += ["--concurrency-limit", str(concurrency_limit)]
    if kinesis:
        argv.append("--kinesis")
    if handler:
        argv += ["--handler", handler]
    for layer in layers or ():
        argv += ["--layer", layer]
    return argv


@asynccontextmanager
async def local_process(argv: list[str]):
    """Start it, yield (its endpoints, its pid) once it printed them; stop it on the way out."""
    # Its own session: the terminal's Ctrl-C reaches us only, and we stop it once. A second
    # SIGINT in the middle of its clean-up would cut that short and leave environments behind.
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=MAX_LINE,
        start_new_session=True,
    )
    said: deque[str] = deque(maxlen=20)
    drain = asyncio.ensure_future(_drain(proc.stderr, said))
    try:
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), START_TIMEOUT_S)
        except TimeoutError:
            raise UserError(
                f"the local Lambda did not start in {START_TIMEOUT_S:.0f} s: the machine may be overloaded; try again"
            ) from None
        if not line:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
            await asyncio.wait_for(drain, 5)
            raise UserError(_why(said, proc.returncode))
        yield json.loads(line), proc.pid
    finally:
        await _stop(proc)
        drain.cancel()


async def _drain(stream: asyncio.StreamReader, said: deque) -> None:
    while True:
        try:
            line = await stream.readline()
        except ValueError:  # a line over the limit: keep reading
            continue
        if not line:
            return
        text = line.decode(errors="replace").strip()
        if text:
            said.append(text)


def _why(said: deque, code: int | None) -> str:
    """Its own one-line error, without its prefix (ours is added), or what is known."""
    for text in reversed(said):
        if text.startswith(ERROR_PREFIX):
            return text[len(ERROR_PREFIX) :]
    last = said[-1] if said else "nothing on its stderr"
    return f"the local Lambda exited ({code}) before it started: {last}"


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """SIGINT (it retires its environments and stops moto), a kill if it takes too long or we
    are cancelled meanwhile: it never outlives us."""
    if proc.returncode is not None:
        return
    try:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(asyncio.shield(proc.wait()), STOP_TIMEOUT_S)
    except ProcessLookupError:
        return
    except BaseException as exc:
        if proc.returncode is None:
            proc.kill()
        if not isinstance(exc, TimeoutError):
            raise
