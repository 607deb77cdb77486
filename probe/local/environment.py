"""One execution environment: a real process, its Runtime API, its log stream.

Its life is Lambda's: INIT (spawn until the runtime's first /next poll = Init Duration), then one
invocation at a time (START, the handler's own lines, END, REPORT), until the fleet retires it or
it dies. Duration runs from /next handing the event out to /response; Max Memory Used is the
process's real peak RSS. Nothing here is invented except the host the fleet placed it on.

Two other modes (FunctionConfig.mode):
- "snapstart": the runtime runs its init unseen (the snapshot is taken at publish), calls
  /restore/next, and the environment's stream begins with RESTORE_START when it is released;
  Restore Duration runs from there to the first /next. No AWS_LAMBDA_LOG_STREAM_NAME or
  AWS_LAMBDA_LOG_GROUP_NAME in its environment, as on AWS.
- "lmi": awslambdaric in multi-concurrent mode (AWS_LAMBDA_MAX_CONCURRENCY) forks one worker per
  request slot; each worker's stdout and stderr come back over the fd-provider socket
  (_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET), one connection per stream, so concurrent lines
  interleave in the stream but never within a line (probe/local/worker_logs.py). REPORT only, no
  END; timeouts not enforced.
"""

import asyncio
import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import deque

from probe.local.extensions import EnvironmentExtensions, at_opt, layer_pythonpath
from probe.local.extensions_api import ExtensionsApi
from probe.local.function import FunctionConfig, InvocationResult
from probe.local.hosts import Host
from probe.local.platform_lines import PlatformLines, Report, iso
from probe.local.procs import minimal_env, peak_rss_mb
from probe.local.runtime_api import Invocation, RuntimeApi
from probe.local.worker_logs import WorkerLogs

log = logging.getLogger(__name__)

TAIL_BYTES = 4096  # LogType=Tail returns the last 4 KB of the invocation's log
TAIL_LINES = 256  # bound on lines kept per invocation for that tail
INIT_TIMEOUT_S = 10.0  # Lambda's INIT phase limit
MAX_ASKED_EARLIER_S = 10.0  # a client's send time older than this is not this machine's ramp


def _code_root() -> str:
    # The folder that holds the `probe` package, so `probe.handler` (and test handlers) import.
    import probe

    return os.path.dirname(os.path.dirname(os.path.abspath(probe.__file__)))


class Environment:
    def __init__(
        self,
        config: FunctionConfig,
        host: Host,
        launcher,
        ship,
        lines: PlatformLines,
        base_tmp: str,
        init_gate: asyncio.Semaphore | None = None,
    ):
        self.id = uuid.uuid4().hex
        self.stream = time.strftime("%Y/%m/%d", time.gmtime()) + f"/[{config.version}]{self.id}"
        self.config = config
        self.host = host
        self.state = "starting"  # starting | idle | busy | stopped
        self.invocations = 0
        self.created_at = time.monotonic()
        self.created_epoch = time.time()
        self.last_used = self.created_at
        self.init_duration_ms: float | None = None
        # This machine's queue before the init could run (its CPUs start init_slots at once):
        # not Lambda's, so not in Init Duration and not in the stream's timeline (INIT_START is
        # written when Lambda would have started the environment). None until it left the queue.
        self.local_queue_ms: float | None = None
        self.init_run_s: float | None = None  # spawn to the first /next, on this machine
        self.pid: int | None = None
        self.retire_reason: str | None = None
        self._launcher = launcher
        self._ship = ship  # callable(stream, message)
        self._lines = lines
        self._base_tmp = base_tmp
        self._init_gate = init_gate  # bounds the inits running at once on this machine
        self.restore_duration_ms: float | None = None
        self.inflight = 0  # requests being served right now (LMI: up to max_concurrency)
        self.peak_inflight = 0
        self.ready = False  # INIT (or restore) finished and the runtime polls
        ext_api = (
            ExtensionsApi(config.function_name, config.version, config.handler, invoke_events=config.mode != "lmi")
            if config.layers
            else None
        )
        self._api = RuntimeApi(config.max_concurrency if config.mode == "lmi" else 1, ext_api)
        self._extensions = EnvironmentExtensions(list(config.layers), ext_api, opt=config.opt) if ext_api else None
        self._proc = None
        self._tmp: str | None = None
        self._init_began = 0.0
        self._init_began_epoch = 0.0
        self._tails: dict[str, deque[str]] = {}  # request id -> its log lines (LogType=Tail)
        self._reported_init = False
        self._starting: asyncio.Task | None = None
        self._worker_logs: WorkerLogs | None = None  # LMI: the socket its workers write to
        self._settling: set[asyncio.Task] = set()  # invoke phases waiting on extensions (_settle)

    def info(self) -> dict:
        return {
            "stream": self.stream,
            "host": self.host.name,
            "invocations": self.invocations,
            "state": self.state,
            "pid": self.pid,
            "created_at": self.created_epoch,
            "init_duration_ms": self.init_duration_ms,
            "local_queue_ms": self.local_queue_ms,
            "restore_duration_ms": self.restore_duration_ms,
            "retire_reason": self.retire_reason,
            "init_type": self._lines.init_type,
            "instance_id": self.host.instance_id or None,
            "inflight": self.inflight,
            "peak_inflight": self.peak_inflight,
        }

    def begin_request(self) -> None:
        self.inflight += 1
        self.peak_inflight = max(self.peak_inflight, self.inflight)
        self.state = "busy"

    def end_request(self) -> None:
        self.inflight = max(0, self.inflight - 1)
        if self.inflight == 0 and self.state == "busy":
            self.state = "idle"

    # -- output -------------------------------------------------------------------------------
    def _emit(self, message: str | None, at: float | None = None) -> None:
        """Ship one line; `at` (epoch s) stamps it with an earlier time than now."""
        if message is None:
            return
        if at is None:
            self._ship(self.stream, message)
        else:
            self._ship(self.stream, message, int(at * 1000))
        # Lines of concurrent requests (LMI) cannot be told apart here: each tail gets them all.
        for tail in self._tails.values():
            tail.append(message)

    def _on_line(self, line: str) -> None:
        # Output between invocations (init code, background threads) belongs to no request;
        # it still goes to the stream, as on Lambda.
        self._emit(line)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, asked_at: float | None = None) -> asyncio.Task:
        """Begin INIT; the returned task ends when the runtime is ready (or failed).

        `asked_at` (epoch s): when the client sent the request this environment is started
        for. Lambda would have started it then; this machine's accept queue and event loop may
        have reached the request later (1,000 clients connecting at once take it a while), and
        that delay is this machine's, like its start queue: INIT_START carries the earlier time
        and the delay counts in local_queue_ms. A time in the future or over
        MAX_ASKED_EARLIER_S before now (another clock, a stale header) is ignored.
        """
        if self._starting is None:
            # INIT begins now, when the fleet decided it: environments started together (a
            # batch) log INIT_START together, however long this loop then takes to spawn them.
            self._init_began = time.perf_counter()
            now = self._init_began_epoch = time.time()
            if asked_at is not None and now - MAX_ASKED_EARLIER_S <= asked_at < now:
                self._init_began -= now - asked_at
                self._init_began_epoch = asked_at
            if self.config.mode != "snapstart":  # a restored stream begins at RESTORE_START
                began = self._init_began_epoch
                self._emit(self._lines.init_start(self.stream, began), began)
            self._starting = asyncio.create_task(self._start_or_fail(), name=f"env-{self.id[:8]}")
        return self._starting

    async def _start_or_fail(self) -> bool:
        """A start that raises (a socket that cannot bind, a launcher gone) is a failed init, not
        an environment left `starting` for ever with every request waiting for it: it is marked
        dead (the pool retires it and stops what it had) and the reason kept."""
        try:
            return await self._start()
        except Exception as exc:  # noqa: BLE001 - said once, then handled like an init that failed
            log.warning("environment %s could not start: %r", self.id[:8], exc)
            self.retire_reason = f"init failed: {exc}"[:200]
            self.state = "stopped"
            return False

    async def _start(self) -> bool:
        # Everything an init costs this machine (its folder, its Runtime API, the spawn and the
        # runtime's imports) runs behind the gate: a few at a time finish sooner than all at once.
        async with self._init_gate or contextlib.nullcontext():
            queued_until = time.perf_counter()
            self.local_queue_ms = (queued_until - self._init_began) * 1000
            ok = await self._init()
            self.init_run_s = time.perf_counter() - queued_until
        if self.config.mode != "snapstart" and ok:
            # Lambda's Init Duration: from the moment this machine could run the init. The time
            # it queued for a CPU before that is local_queue_ms, reported apart.
            self.init_duration_ms = (self._api.first_poll_at - queued_until) * 1000
            if self.config.mode == "lmi":  # REPORT carries no Init Duration: INIT_REPORT does
                self._emit(self._lines.init_report(self.init_duration_ms))
        if not ok:
            return False
        self.ready = True
        if self.state == "starting":
            self.state = "idle"
        return True

    async def _init(self) -> bool:
        self._tmp = tempfile.mkdtemp(prefix="env-", dir=self._base_tmp)
        await self._api.start()
        cfg = self.config
        env = {
            "AWS_LAMBDA_RUNTIME_API": self._api.address,
            "AWS_LAMBDA_FUNCTION_NAME": cfg.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(cfg.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": cfg.version,
            "AWS_LAMBDA_LOG_GROUP_NAME": cfg.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": self._lines.init_type,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_REGION": cfg.region,
            "AWS_DEFAULT_REGION": cfg.region,
            "_HANDLER": cfg.handler,
            "LAMBDA_TASK_ROOT": cfg.code_root or _code_root(),
            "PYTHONPATH": cfg.code_root or _code_root(),
            "TMPDIR": self._tmp,
            "HOME": self._tmp,
        }
        if cfg.log_format == "json":
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        layer_paths = [at_opt(p, cfg.opt) for p in layer_pythonpath(list(cfg.layers))]
        env["PYTHONPATH"] = os.pathsep.join([*layer_paths, env["PYTHONPATH"]])
        if self.host.proc_root:
            env["LAMBDASCOPE_PROC_ROOT"] = self.host.proc_root
            if self.host.instance_id:
                env["LAMBDASCOPE_DMI_ROOT"] = os.path.join(self.host.proc_root, "dmi")
        if cfg.mode == "snapstart":
            # Not available in SnapStart functions (snapstart-monitoring.html): one snapshot
            # serves many environments, so no stream name can be baked into it.
            del env["AWS_LAMBDA_LOG_GROUP_NAME"], env["AWS_LAMBDA_LOG_STREAM_NAME"]
        if cfg.mode == "lmi":
            env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(cfg.max_concurrency)
            self._worker_logs = WorkerLogs(self._on_line)
            env["_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET"] = await self._worker_logs.serve(self._tmp)
        argv = list(cfg.runtime_argv) or [sys.executable, "-u", "-m", "awslambdaric", cfg.handler]
        # Extensions first, each registered before the runtime starts (Lambda's INIT order).
        if self._extensions and not await self._extensions.start(minimal_env(env), self._tmp, self._on_line):
            return self._extension_failed()
        # Lambda's working folder is the task root; the probe's is its own scratch folder.
        cwd = cfg.code_root or self._tmp
        self._proc = await self._launcher.launch(argv, minimal_env(env), cwd, self._on_line, opt=cfg.opt)
        self.pid = self._proc.pid
        if cfg.mode == "snapstart":
            ok = await self._restore()
        else:
            ok = await self._until(self._api.ready)
        if ok and self._extensions:
            if not await self._extensions.wait_ready():
                return self._extension_failed()
            for line in self._extensions.lines(cfg.log_format == "json"):
                self._emit(line)
        return ok

    def _extension_failed(self) -> bool:
        """An extension crashed or failed its init: the init fails as Lambda reports it."""
        failure = self._extensions.failure if self._extensions else None
        ms = (time.perf_counter() - self._init_began) * 1000
        self._emit(self._lines.init_report(ms, status="error", error_type=failure or "Extension.Crash"))
        self.retire_reason = f"init failed: {failure or 'Extension.Crash'}"
        self.state = "stopped"
        if self._extensions:
            self._extensions.kill()
        return False

    async def _until(self, event: asyncio.Event) -> bool:
        """Wait for `event` unless the process exits or INIT runs out of time."""
        waiter = asyncio.ensure_future(event.wait())
        done, _ = await asyncio.wait(
            {waiter, self._proc.exited}, timeout=INIT_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            waiter.cancel()
            return False
        return True

    async def _restore(self) -> bool:
        """SnapStart: init ran where no stream sees it; the restore is what this stream logs."""
        if not await self._until(self._api.snapshot_point):
            return False
        # Lambda restores when it decides to start the environment (the snapshot exists since
        # publish); here the unseen init and this machine's queue came first, so the line
        # carries the time of that decision.
        began = self._init_began_epoch
        self._emit(self._lines.restore_start(self.stream, began), began)
        restored_at = time.perf_counter()
        self._api.restore()
        if not await self._until(self._api.ready):
            return False
        self.restore_duration_ms = (self._api.first_poll_at - restored_at) * 1000
        self._emit(self._lines.restore_report(self.restore_duration_ms))
        return True

    async def stop(self, reason: str = "stopped") -> None:
        """Kill the process and free everything the environment held."""
        if self.retire_reason is None:
            self.retire_reason = reason
        self.state = "stopped"
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        for task in list(self._settling):
            task.cancel()
        if self._extensions:
            await self._extensions.shutdown("spindown")
        if self._proc is not None:
            self._proc.kill()
            try:
                await asyncio.wait_for(asyncio.shield(self._proc.exited), 5)
            except TimeoutError:
                pass
        await self._api.stop()
        if self._worker_logs is not None:
            self._worker_logs.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = None

    def kill_now(self) -> None:
        """Synchronous last resort (interpreter shutting down): just kill the process."""
        if self._proc is not None:
            self._proc.kill()

    @property
    def dead(self) -> bool:
        return self.state == "stopped" or (self._proc is not None and self._proc.exited.done())

    # -- one invocation -----------------------------------------------------------------------
    async def invoke(self, event: bytes, request_id: str) -> InvocationResult:
        """Run one invocation; the caller has marked the environment busy."""
        self.invocations += 1
        self._tails[request_id] = deque(maxlen=TAIL_LINES)
        try:
            ok = await self.start()
            if not ok or self._proc is None:
                return self._crashed(request_id, handed_at=None)
            return await self._run(event, request_id)
        finally:
            self._tails.pop(request_id, None)
            self.last_used = time.monotonic()

    async def _run(self, event: bytes, request_id: str) -> InvocationResult:
        cfg = self.config
        self._emit(self._lines.start(request_id))
        deadline = time.time() + cfg.timeout_s
        inv = Invocation(
            request_id=request_id,
            event=event,
            deadline_ms=int(deadline * 1000),
            function_arn=cfg.function_arn,
            trace_id=_trace_id(),
        )
        submitted = time.perf_counter()
        if self._extensions:
            self._extensions.api.invoke(request_id, inv.deadline_ms, inv.function_arn, inv.trace_id)
        self._api.submit(inv)
        done, _ = await asyncio.wait(
            {inv.result, self._proc.exited}, timeout=cfg.timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        if inv.result in done and not inv.result.cancelled():
            kind, body, error_type = inv.result.result()
            status = "success" if kind == "ok" else "error"
            if self._extensions and self._extensions.api.busy():
                result = InvocationResult(request_id, kind, body, error_type, self._tail_text(request_id))
                result.settled = self._settle(request_id, inv.handed_at or submitted, status, deadline)
                return result
            report = self._report(request_id, inv.handed_at or submitted, inv.done_at, status)
            self._emit(self._lines.end(request_id))
            self._emit(self._lines.report(report))
            return InvocationResult(request_id, kind, body, error_type, self._tail_text(request_id))
        if self._proc.exited in done:
            return self._crashed(request_id, inv.handed_at or submitted)
        return await self._timed_out(request_id, inv.handed_at or submitted)

    def _settle(self, request_id: str, started: float, status: str, deadline: float) -> asyncio.Task:
        """The runtime has answered and extensions still work on this INVOKE: END and REPORT
        (its Duration spanning their time) when each has polled again. An extension that exits
        meanwhile fails the invocation as a crash; one still busy at the deadline, as a timeout.
        Either way Lambda resets the environment."""

        async def settle() -> None:
            procs = [p.exited for p in self._extensions.procs.values()]
            if await self._extensions.api.wait_done(deadline - time.time(), procs):
                self._emit(self._lines.end(request_id))
                self._emit(self._lines.report(self._report(request_id, started, time.perf_counter(), status)))
                return
            crashed = any(p.done() for p in procs)
            report = self._report(request_id, started, time.perf_counter(), "failure" if crashed else "timeout")
            self._emit(self._lines.end(request_id))
            self._emit(self._lines.report(report))
            if not crashed:
                self._emit(self._lines.timed_out(request_id, self.config.timeout_s))
            self.retire_reason = self.retire_reason or ("extension crashed" if crashed else "timed out")
            self.state = "stopped"
            if self._proc is not None:
                self._proc.kill()

        task = asyncio.ensure_future(settle())
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)
        return task

    def _report(self, request_id, started, ended, status) -> Report:
        first = not self._reported_init
        self._reported_init = True
        lmi = self.config.mode == "lmi"
        return Report(
            request_id=request_id,
            duration_ms=(ended - started) * 1000,
            memory_size_mb=self.config.memory_mb,
            max_memory_used_mb=(peak_rss_mb(self.pid) if self.pid and not lmi else None) or 0,
            init_duration_ms=self.init_duration_ms if first and not lmi else None,
            restore_duration_ms=self.restore_duration_ms if first else None,
            status=status,
        )

    def _crashed(self, request_id: str, handed_at: float | None) -> InvocationResult:
        how = self._proc.exit_reason() if self._proc is not None else "signal: killed"
        self._emit(self._lines.runtime_exited(request_id, how))
        report = self._report(request_id, handed_at or time.perf_counter(), time.perf_counter(), "failure")
        self._emit(self._lines.end(request_id))
        self._emit(self._lines.report(report))
        message = f"RequestId: {request_id} Error: Runtime exited with error: {how}"
        error_type = "Runtime.ExitError"
        if (self.retire_reason or "").startswith("init failed: "):
            # The init failed (an extension crashed): the invoke answers with the init's error.
            error_type = self.retire_reason.removeprefix("init failed: ")
            message = f"RequestId: {request_id} Error: the init failed ({error_type})"
        body = json.dumps({"errorType": error_type, "errorMessage": message})
        self.state = "stopped"
        self.retire_reason = self.retire_reason or "crashed"
        return InvocationResult(request_id, "crash", body.encode(), "Unhandled", self._tail_text(request_id))

    async def _timed_out(self, request_id: str, handed_at: float) -> InvocationResult:
        cfg = self.config
        # Peak memory must be read before the kill takes the process away.
        report = self._report(request_id, handed_at, time.perf_counter(), "timeout")
        report.billed_cap_ms = cfg.timeout_s * 1000
        self._emit(self._lines.end(request_id))
        self._emit(self._lines.report(report))
        line = self._lines.timed_out(request_id, cfg.timeout_s)
        self._emit(line)
        message = line or f"{iso()} {request_id} Task timed out after {cfg.timeout_s:.2f} seconds"
        body = json.dumps({"errorMessage": message})
        if cfg.mode == "lmi":
            # Managed Instances do not enforce timeouts: the worker runs on, the caller is told.
            return InvocationResult(request_id, "timeout", body.encode(), "Unhandled", self._tail_text(request_id))
        # Lambda resets an environment after a timeout: this one is done.
        self.retire_reason = self.retire_reason or "timed out"
        self.state = "stopped"
        self._proc.kill()
        return InvocationResult(request_id, "timeout", body.encode(), "Unhandled", self._tail_text(request_id))

    def _tail_text(self, request_id: str) -> str:
        text = "\n".join(self._tails.get(request_id) or ()) + "\n"
        data = text.encode()
        return data[-TAIL_BYTES:].decode(errors="ignore")


def _trace_id() -> str:
    # X-Ray's shape: Root=1-<8 hex epoch seconds>-<24 hex>.
    return f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"
