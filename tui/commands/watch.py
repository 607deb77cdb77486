"""`lambdascope watch` (and a bare `lambdascope`): the live monitor.

Shows the screen first, then starts the target (the embedded local Lambda unless --function/--url
name one on AWS), the load generator in its own process, and a log source, and hands them to the
app; stops all of them when the app exits, however it exits.
"""

import sys
import time
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass

from tui.aws.sources.factory import KINDS
from tui.commands.fanout_flag import add_fan_out_flag, check_fan_out, fan_out_for
from tui.commands.options import (
    add_hold_flag,
    add_target_flags,
    bound_to_target,
    hold_ms,
    load_plan,
    positive_float,
    positive_int,
)
from tui.commands.plan_flag import add_plan_flag, base_plan, load_ramp

DEFAULT_CONCURRENCY = 10
START_WAIT_S = 30.0  # at quit, how long a start still under way may take to finish


def register(sub) -> None:
    p = sub.add_parser("watch", help="the live monitor: load the function and watch its containers")
    load = p.add_mutually_exclusive_group()
    load.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help=f"start in closed loop with N requests in flight (default {DEFAULT_CONCURRENCY})",
    )
    load.add_argument("--rate", type=float, metavar="R", help="start in open loop at R requests/s")
    add_plan_flag(load)
    p.add_argument(
        "--max-in-flight",
        type=int,
        default=1000,
        metavar="N",
        help="cap on requests in flight (open loop holds back above it; default 1000)",
    )
    add_hold_flag(p)
    add_fan_out_flag(p)
    p.add_argument(
        "--logs",
        choices=KINDS,
        default="auto",
        help="log source: Live Tail, polling FilterLogEvents, the Kinesis stream of 'deploy --kinesis' (on the local "
        "Lambda made on demand), or auto (Kinesis when the function has lambdascope's subscription, else Live Tail "
        "on AWS and polling on the local Lambda)",
    )
    p.add_argument(
        "--snapshot-dir",
        default="lambdascope-snapshots",
        metavar="DIR",
        help="where the s key writes its folders (default ./lambdascope-snapshots)",
    )
    p.add_argument("--record", metavar="FILE", help="record both channels to FILE (replay it with 'replay')")
    p.add_argument("--refresh-hz", type=float, default=5.0, help="screen redraws per second (default 5)")
    add_target_flags(p)
    p.set_defaults(handler=handle)


def plan_from_args(args):
    positive_int("--concurrency", args.concurrency)
    positive_float("--rate", args.rate)
    positive_int("--max-in-flight", args.max_in_flight)
    positive_float("--refresh-hz", args.refresh_hz)
    check_fan_out(args)
    return load_plan(
        args.concurrency or DEFAULT_CONCURRENCY, args.rate, max_in_flight=args.max_in_flight, hold_ms=hold_ms(args)
    )


@dataclass
class WatchSession:
    """What the app needs, started: the target's description, the load, the log sources."""

    target: object  # tui.aws.target.Target
    load: object  # tui.core.load.LoadController
    sources: list
    plan: object = None  # the plan the load started with, bounded by the function's timeout
    notes: tuple = ()  # what to say before the load meets a limit (Lambda will throttle, …)


@asynccontextmanager
async def open_watch(args, plan, target=None, warm=None, ramp_plan=None):
    """Start the target (`target`: what `tui.aws.target.open_target(args)` gave, if called already),
    its log source and the load process (taking over `warm`, a loadgen.process.WarmStart, if
    given); stop them all on the way out. A hold (the plan's, or any stage's of `ramp_plan`)
    that would pass the function's timeout is refused (UserError) before the load starts."""
    from loadgen.process import LoadProcess
    from tui.aws.sources.factory import open_source
    from tui.aws.target import open_target
    from tui.core.load import ProcessLoad

    async with target or open_target(args) as target:
        plan, notes = bound_to_target(target, plan, ramp_plan)
        # The load first, the log source after: the first environments' cold starts overlap the
        # source's start (its client, ~0.2 s). It reads from before the first request was sent.
        start_ms = int((time.time() - 1) * 1000)
        if getattr(args, "fan_out", None):
            load = await _fan_out_load(args, target, plan, notes)  # starts with the app's load worker
        else:
            process = LoadProcess(target.load_spec(), plan, records="new", client=target.http_client, warm=warm)
            process.start()
            load = ProcessLoad(process)
        try:
            async with open_source(target, args.logs, start_ms=start_ms) as source:
                yield WatchSession(target, load, [source], plan, tuple(notes))
        finally:
            await load.stop()


async def _fan_out_load(args, target, plan, notes: list):
    """--fan-out N: the loaders as the app's load, steered through a control object (in the local
    Lambda's S3, or on AWS in deploy --loader's bucket); the quota and cost line goes on the status line."""
    from tui.methods.fanout_control import ControlObject
    from tui.methods.fanout_load import FanOutLoad

    local = ControlObject.for_local(target) if target.kind != "aws" else None
    fan, quota = await fan_out_for(args, target, plan, local_control=local)
    notes.append(quota)
    return FanOutLoad(fan)


async def handle(args) -> int:
    """The screen first, then the rest: a first frame before Textual is even imported
    (tui/screen/splash.py), the app's own screen over it, and then the local Lambda (or the AWS lookup),
    the log source and the load process, started in a task once the app's first frame is up and
    handed to the app."""
    from tui.aws.target import LocalTarget, open_target
    from tui.screen.splash import splash

    plan = plan_from_args(args)
    steering = None
    if args.plan:
        from loadgen.steering import Steering

        ramp_plan = load_ramp(args.plan)
        plan = base_plan(ramp_plan, args.max_in_flight, hold_ms(args))
        steering = Steering(ramp_plan, plan, time.time())
    target = open_target(args)  # its checks need no IO: a bad flag or profile is said before any screen
    if isinstance(target, LocalTarget):
        target.apart = True  # the keys can take it to 1,000 environments: a core of its own
        target.check(plan, steering.plan if steering else None)  # so is a hold its timeout refuses
    with (
        ExitStack() as early,
        splash(plan.describe(), pending_target(args).label(), _starting_text(args)) as first_frame,
    ):
        if isinstance(target, LocalTarget):
            target.spawn()  # moto boots on the other core while Textual is imported on this one
            early.callback(target.close)  # a no-op once the local Lambda adopted it
        return await _watch(args, plan, target, steering, first_frame)


async def _watch(args, plan, target, steering, first_frame) -> int:
    import asyncio
    from contextlib import AsyncExitStack

    from tui.core.load import LoadState
    from tui.screen.app import MonitorApp

    async with AsyncExitStack() as stack:
        starting: list[asyncio.Task] = []
        app = MonitorApp(
            target=pending_target(args),
            load_state=LoadState.from_plan(plan),
            snapshot_dir=args.snapshot_dir,
            refresh_hz=args.refresh_hz,
            when_ready=lambda: starting.append(asyncio.create_task(start(app, args, plan, stack, target, steering))),
        )
        with quit_on_signals(app, stack):
            try:
                first_frame.taken()  # Textual draws over it, and leaves the screen itself
                await app.run_async()
            finally:
                if starting:
                    # Let it finish (what it started is stopped below), within bounds: a lookup
                    # that hangs is cancelled.
                    await asyncio.wait(starting, timeout=START_WAIT_S)
                    if not starting[0].done():
                        starting[0].cancel()
                        await asyncio.gather(starting[0], return_exceptions=True)
                await app.shutdown()
        if starting and not starting[0].cancelled() and starting[0].result() is not None:
            raise starting[0].result()  # a one-line error (exit 2), now the terminal is restored
    if app.exit_summary():  # after the terminal is restored and everything stopped
        print(app.exit_summary(), file=sys.stderr)
    return app.return_code or 0


def _starting_text(args) -> str:
    return "looking up the function…" if args.function or args.url else "starting the local Lambda…"


def pending_target(args):
    """What the header names while the target starts (the started target replaces it)."""
    from tui.core.target_info import TargetInfo

    if args.function or args.url:
        return TargetInfo("aws", args.function or args.url, args.region)
    return TargetInfo("local", "lambdascope-probe", simulated_hosts=True)


async def start(app, args, plan, stack, target=None, steering=None) -> Exception | None:
    """Start the session into `stack` and attach it to the app; the error (or None) that stopped it."""
    import asyncio

    from loadgen import gc_policy
    from loadgen.process import WarmStart

    app.status.say(_starting_text(args))
    try:
        # First, so it boots (imports the generator) on the other core while the target starts;
        # after the first frame, so the screen comes up before anything competes with it.
        warm = None if getattr(args, "fan_out", None) else WarmStart()  # a fan-out's load runs on loaders
        if warm is not None:
            stack.callback(warm.close)  # a no-op once the load process took it over
        # botocore (for the error classes) off the event loop: the screen stays live meanwhile.
        # The local Lambda imports its own parts in a thread while moto boots (tui.aws.target).
        await asyncio.to_thread(_import_session_modules)
        from tui.aws.errors import aws_errors
        from tui.aws.local_status import read_start_queue, status_url
        from tui.core.target_info import TargetInfo
        from tui.output.recording import Recorder

        with aws_errors(args):
            session = await stack.enter_async_context(
                open_watch(args, plan, target, warm, steering.plan if steering else None)
            )
        recorder = Recorder(args.record, session.target.describe(), time.time()) if args.record else None
        if recorder is not None:
            stack.callback(recorder.close)
        if steering is not None:
            steering.base = session.plan  # its stages step within the function's bound
            steering.start(time.time())  # the plan's clock starts with the load
        url = status_url(session.target)
        if app.attach(
            target=TargetInfo.from_target(session.target),
            load=session.load,
            sources=session.sources,
            recorder=recorder,
            steering=steering,
            start_queue=(lambda: read_start_queue(url)) if url else None,
        ):
            app.status.say(f"load: {session.plan.describe()}")
            for note in session.notes:  # last, so it stays on the status line
                app.status.say(f"⚠ {note}", error=True)
            gc_policy.freeze_startup()  # the screen, the clients, the sources: all up
        return None
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - handed back to handle(), raised once the screen is gone
        app.exit(return_code=2)
        return exc


def _import_session_modules() -> None:
    import loadgen.process  # noqa: F401
    import tui.aws.errors  # noqa: F401
    import tui.aws.sources.factory  # noqa: F401
    import tui.aws.target  # noqa: F401


@contextmanager
def quit_on_signals(app, stack):
    """SIGTERM quits like `q`. SIGHUP (the terminal is gone) cannot: Textual would block
    restoring a terminal that no longer exists. So it stops the load, the sources and the
    local Lambda itself, then ends the process. Either way nothing it started outlives it."""
    import asyncio
    import os
    import signal

    loop = asyncio.get_running_loop()

    async def hang_up():
        try:
            await app.shutdown()
            await stack.aclose()
        finally:
            os._exit(128 + signal.SIGHUP)

    loop.add_signal_handler(signal.SIGTERM, lambda: app.call_later(app.action_quit))
    loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(hang_up()))
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        loop.remove_signal_handler(signal.SIGHUP)
