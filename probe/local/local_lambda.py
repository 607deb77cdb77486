"""LocalLambda: the whole local Lambda in one `async with`.

    async with LocalLambda() as ll:
        ll.function_url, ll.invoke_endpoint, ll.logs_endpoint, ll.credentials ...

It starts moto (the CloudWatch Logs endpoint), the log shipper, the launcher, the fleet and the
front door, and stops all of them on the way out, on success, error or cancellation (Ctrl-C):
every process it started is killed by process group, so nothing outlives it.
"""

import asyncio
import json
import logging
import os
import shutil
import sys
import tempfile

from probe.local import opt_mount
from probe.local.capacity import init_slots
from probe.local.capacity_provider import CapacityProviderLog
from probe.local.environment import Environment
from probe.local.extensions import merge_layers, unpack_layer
from probe.local.frontdoor import FrontDoor
from probe.local.function import FunctionConfig
from probe.local.invoke_stream import add_stream_routes
from probe.local.launcher import SpawnLauncher
from probe.local.loader_host import LoaderHost
from probe.local.logs_front import LogsFront
from probe.local.logship import LogShipper
from probe.local.moto_server import MotoServer
from probe.local.platform_lines import PlatformLines
from probe.local.pool import Pool
from probe.local.procs import alive
from probe.local.profile import Profile, load_profile
from probe.local.scratch import clean_stale, make_scratch
from probe.local.user_code import resolve_handler
from probe.local.worker_logs import SHORT_SOCKET_BASE

log = logging.getLogger(__name__)

ACCOUNT = "123456789012"  # moto's default account
CREDENTIALS = ("testing", "testing")  # moto accepts any static keys; never real ones
PROBE_HANDLER = "probe.handler.handler"


class LocalLambda:
    def __init__(
        self,
        profile: Profile | str | None = None,
        port: int = 0,
        *,
        function_name: str = "lambdascope-probe",
        handler: str = PROBE_HANDLER,
        region: str = "us-east-1",
        concurrency_limit: int | None = None,
        runtime: str | None = None,
        log_format: str | None = None,
        moto: MotoServer | None = None,
        layers: tuple[str, ...] = (),
    ):
        """`moto`: a MotoServer already spawned (`MotoServer().spawn()`), adopted and stopped
        with the rest; by default one is started here."""
        prof = profile if isinstance(profile, Profile) else load_profile(profile)
        if concurrency_limit is not None:
            prof.concurrency_limit = concurrency_limit
        if runtime is not None:
            prof.runtime = runtime
        if log_format is not None:
            prof.log_format = log_format
        self.profile = prof
        self.region = region
        self.function_name = function_name
        self.log_group = f"/aws/lambda/{function_name}"
        self.credentials = CREDENTIALS
        code_root = None
        if prof.handler and handler == PROBE_HANDLER:
            handler = prof.handler
        if ":" in handler:  # a user's FILE.py:FUNCTION (probe/local/user_code.py)
            code_root, handler = resolve_handler(handler)
        self.config = FunctionConfig(
            function_name=function_name,
            region=region,
            account=ACCOUNT,
            handler=handler,
            memory_mb=prof.memory_mb,
            timeout_s=prof.timeout_s,
            runtime=prof.runtime,
            log_format=prof.log_format,
            version=prof.version,
            mode=prof.mode,
            max_concurrency=prof.max_concurrency,
            code_root=code_root,
        )
        self._layer_sources = tuple(layers or prof.layers)  # folders or zips; zips are unpacked at start
        # Where the layers are, in one line for `local` and a run's summary (None: no layers).
        self.layers_note: str | None = None
        # Managed Instances: the capacity provider's own system log group (instance lifecycle).
        self.capacity_provider_log_group = (
            f"/aws/lambda/capacity-provider/{prof.capacity_provider}" if prof.mode == "lmi" else None
        )
        self._port = port
        self._pids: set[int] = set()
        self._tmp: str | None = None
        self.moto: MotoServer | None = moto
        self.logs: LogsFront | None = None
        self.shipper: LogShipper | None = None
        self.system_log: CapacityProviderLog | None = None
        self.launcher = None
        self.fleet: Pool | None = None
        self.door: FrontDoor | None = None
        self.loader: LoaderHost | None = None  # the second function (--fan-out), started on first use

    # -- endpoints ----------------------------------------------------------------------------
    @property
    def function_url(self) -> str:
        return f"http://127.0.0.1:{self.door.port}/"

    @property
    def invoke_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.door.port}"

    @property
    def logs_endpoint(self) -> str:
        # The Live Tail front: StartLiveTail streams from it, every other call reaches moto.
        return self.logs.url

    def endpoints(self) -> dict:
        """The JSON line `lambdascope local` prints. `endpoint_url` (= invoke_endpoint) serves
        every AWS call, Lambda and CloudWatch Logs alike: give it to `--endpoint-url`."""
        info = {
            "function_url": self.function_url,
            "invoke_endpoint": self.invoke_endpoint,
            "endpoint_url": self.invoke_endpoint,
            "logs_endpoint": self.logs_endpoint,
            "region": self.region,
            "function_name": self.function_name,
            "log_group": self.log_group,
            "status_url": self.status_url,
            "max_environment_processes": self.fleet.max_processes if self.fleet else None,
        }
        if self.capacity_provider_log_group:
            info["capacity_provider_log_group"] = self.capacity_provider_log_group
        if self.moto is not None:
            info["moto_endpoint"] = self.moto.endpoint  # where a fan-out's control object (S3) lives
        if self.config.code_root:
            info["handler"] = self.config.handler
            info["code_root"] = self.config.code_root
        if self.layers_note:
            info["layers"] = self.layers_note
        return info

    @property
    def status_url(self) -> str:
        """The local Lambda's own counters (not an AWS API): environments, the machine's cap and
        how often it was the limit. See control_api.STATUS_PATH."""
        return f"http://127.0.0.1:{self.door.port}/_lambdascope/status"

    @property
    def on_shipped(self) -> list:
        """Callbacks `(log_group, stream, events)` run after each batch reaches the log store."""
        return self.shipper.on_shipped

    @property
    def environments(self) -> list[dict]:
        """Every environment so far (stream, host, invocations, state, ...), for tests and UIs."""
        return [env.info() for env in self.fleet.environments] if self.fleet else []

    @property
    def pids(self) -> set[int]:
        """Every process id this local Lambda started (tests check none survives)."""
        pids = set(self._pids)
        if self.fleet:
            pids |= {env.pid for env in self.fleet.environments if env.pid}
        if self.loader and self.loader.started:
            pids |= {env.pid for env in self.loader.started.environments if env.pid}
        return pids

    def survivors(self) -> list[int]:
        return sorted(pid for pid in self.pids if alive(pid))

    def _place_layers(self) -> None:
        """Unpack the layers into one folder, in order, as Lambda extracts them into /opt, and
        mount it there for every environment process where this machine allows it."""
        unpacked = [
            unpack_layer(src, os.path.join(self._tmp, "layers", str(i))) for i, src in enumerate(self._layer_sources)
        ]
        merged = merge_layers(unpacked, os.path.join(self._tmp, "opt"))
        self.config.layers = (merged,)
        why_not = opt_mount.check(merged)
        count = f"{len(unpacked)} layer{'s' * (len(unpacked) != 1)}"
        if why_not is None:
            self.config.opt = merged
            self.layers_note = f"{count} at /opt (each environment in its own mount namespace)"
        else:
            self.layers_note = (
                f"{count} NOT at /opt ({why_not}): python/ is on PYTHONPATH and extensions start from "
                f"{merged}, so code that names /opt outright will not find its files"
            )
            log.warning("%s", self.layers_note)

    # -- lifecycle ----------------------------------------------------------------------------
    async def __aenter__(self) -> "LocalLambda":
        try:
            await self._start()
        except BaseException:
            await self._shutdown()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        await self._shutdown()

    async def _start(self) -> None:
        # The system temp folder, and /tmp where environments put their sockets when it is long.
        for base in dict.fromkeys([tempfile.gettempdir(), SHORT_SOCKET_BASE]):
            for path in clean_stale(base):
                log.info("removed %s, left behind by a local Lambda that no longer runs", path)
        self._tmp = make_scratch()
        if self._layer_sources:
            await asyncio.to_thread(self._place_layers)
        if self.moto is None:
            self.moto = MotoServer(self._pids).spawn()
        await self.moto.start()
        self._pids.add(self.moto.pid)  # an adopted one too: tests check none survives
        self.logs = LogsFront(self.moto.endpoint)
        await self.logs.start()
        self.shipper = LogShipper(
            self.moto.endpoint, self.region, self.credentials, self.log_group, self.profile.ingestion_delay_s
        )
        # What moto stored, Live Tail sessions see: the same batches, once stored.
        self.shipper.on_shipped.append(self.logs.publish)
        await self.shipper.start()
        on_host_event = None
        if self.capacity_provider_log_group:
            cp_shipper = LogShipper(
                self.moto.endpoint,
                self.region,
                self.credentials,
                self.capacity_provider_log_group,
                self.profile.ingestion_delay_s,
            )
            cp_shipper.on_shipped.append(self.logs.publish)
            self.system_log = CapacityProviderLog(cp_shipper, self.profile.capacity_provider, self.region, ACCOUNT)
            await cp_shipper.start()
            on_host_event = self.system_log.host_event
        self.launcher = self._make_launcher()
        await self.launcher.start()
        lines = PlatformLines(
            self.profile.log_format,
            self.region,
            self.function_name,
            self.config.version,
            self.config.function_arn,
            self.profile.memory_mb,
            self.profile.mode,
        )

        init_gate = asyncio.Semaphore(self.profile.init_slots or init_slots())

        def make_env(host):
            return Environment(self.config, host, self.launcher, self.shipper.add, lines, self._tmp, init_gate)

        self.fleet = Pool(self.profile, make_env, self._tmp, on_host_event)
        self.fleet.log_status = self.shipper.status  # the log store's lag, in the status read
        await self.fleet.start()
        moto = self.moto
        self.loader = LoaderHost(self.profile, self.region, ACCOUNT, lambda: moto.endpoint, self.credentials, self._tmp)
        fleet, loader = self.fleet, self.loader

        async def probe_pool():
            return fleet

        def functions():
            return ((self.config, probe_pool), (loader.config, loader.pool))

        # Logs calls to the front door go on to whatever serves logs_endpoint (read per call).
        self.door = FrontDoor(
            self.fleet,
            self.config,
            self._port,
            logs_endpoint=lambda: self.logs_endpoint,
            extra_routes=(lambda app: add_stream_routes(app, functions),),
        )
        await self.door.start()

    def _make_launcher(self):
        if self.profile.runtime in ("fork", "awslambdaric-fork"):
            from probe.local.forkserver import ForkLauncher

            return ForkLauncher(self._pids, ric=self.profile.runtime == "awslambdaric-fork")
        return SpawnLauncher()

    async def _shutdown(self) -> None:
        # Each step runs even if an earlier one fails or we are being cancelled: a leaked
        # process is worse than a slow exit.
        steps = [
            ("front door", self.door.stop if self.door else None),
            ("fleet", self.fleet.stop if self.fleet else None),
            ("loader", self.loader.stop if self.loader else None),
            ("launcher", self.launcher.stop if self.launcher else None),
            ("log shipper", self.shipper.stop if self.shipper else None),
            ("system log", self.system_log.shipper.stop if self.system_log else None),
            ("logs front", self.logs.stop if self.logs else None),
            ("moto", self.moto.stop if self.moto else None),
        ]
        for name, stop in steps:
            if stop is None:
                continue
            try:
                await asyncio.shield(asyncio.ensure_future(stop()))
            except asyncio.CancelledError:
                # Cancelled again mid-shutdown: kill what is left synchronously and go.
                self._kill_everything()
                raise
            except Exception:
                log.exception("stopping the %s failed", name)
        self._kill_everything()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _kill_everything(self) -> None:
        # Only processes known not to have exited: a recorded pid may since belong to someone else.
        if self.fleet:
            self.fleet.kill_all_now()
        if self.loader:
            self.loader.kill_now()
        if self.launcher:
            self.launcher.kill_now()
        if self.moto:
            self.moto.kill_now()


async def serve(
    profile_file: Profile | str | None = None,
    concurrency_limit: int | None = None,
    port: int = 0,
    *,
    out=None,
    moto: MotoServer | None = None,
    setup=None,
) -> None:
    """Run the local Lambda until cancelled (Ctrl-C), after printing ONE JSON line of endpoints
    (`lambdascope local`, the one command line for it). A bad profile raises ValueError with a
    one-line message naming the fix. `moto`: one spawned already, adopted (see LocalLambda).
    `setup`: an async callable run on the started LocalLambda before the line is printed; the
    dict it returns joins the line (`local --kinesis` makes its log channel so)."""
    out = out or sys.stdout
    async with LocalLambda(profile=profile_file, port=port, concurrency_limit=concurrency_limit, moto=moto) as ll:
        info = dict(ll.endpoints(), profile=ll.profile.name)
        if setup is not None:
            info.update(await setup(ll))
        out.write(json.dumps(info) + "\n")
        out.flush()
        await asyncio.Event().wait()  # until cancelled
