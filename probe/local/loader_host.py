"""The local Lambda's second function: lambdascope's loader (`lambdascope-loader`), for --fan-out.

Its own configuration, log group (`/aws/lambda/lambdascope-loader`), log shipper and pool of
real environments, beside the probe's. Its environments run the loader's own runtime
(`python -m loadgen.loader.bootstrap`: a stdlib Runtime API loop that streams its answer), not
awslambdaric, which cannot stream. A loader is generous where the probe is small: Lambda's
longest timeout (900 s) and 1,769 MB (one full vCPU on Lambda), because a share of a plan runs
for as long as the plan does.

Nothing starts until the loader is first invoked (`pool()`): a local Lambda that never fans
out pays nothing for it. Its environments count against the same machine as the probe's (one
process each), and on Lambda they count against the account's concurrency quota: the caller
says so before a fan-out run (tui/methods/fanout.py).
"""

import asyncio
import dataclasses
import sys

from probe.local.environment import Environment
from probe.local.function import FunctionConfig
from probe.local.launcher import SpawnLauncher
from probe.local.logship import LogShipper
from probe.local.platform_lines import PlatformLines
from probe.local.pool import Pool
from probe.local.profile import Profile

LOADER_NAME = "lambdascope-loader"
LOADER_TIMEOUT_S = 900.0
LOADER_MEMORY_MB = 1769
BOOTSTRAP = (sys.executable, "-u", "-m", "loadgen.loader.bootstrap")


class LoaderHost:
    """`await host.pool()` -> the loader's Pool, started on first use; `await host.stop()`."""

    def __init__(self, profile: Profile, region: str, account: str, moto_endpoint, credentials, base_tmp: str):
        self.profile = dataclasses.replace(
            profile,
            name=f"{profile.name}+loader",
            timeout_s=LOADER_TIMEOUT_S,
            memory_mb=LOADER_MEMORY_MB,
            runtime="awslambdaric",  # spawned: the fork server preloads awslambdaric, not ours
            mode="on-demand",
            version="$LATEST",
            max_concurrency=1,
            network_latency_ms=0.0,
            hosts=[],  # this machine: a loader's host is not what the run studies
            batch=False,
        )
        self.config = FunctionConfig(
            function_name=LOADER_NAME,
            region=region,
            account=account,
            handler="loadgen.loader.handler.handler",
            memory_mb=LOADER_MEMORY_MB,
            timeout_s=LOADER_TIMEOUT_S,
            runtime="custom",
            log_format=profile.log_format,
            runtime_argv=BOOTSTRAP,
        )
        self.log_group = self.config.log_group
        self._moto_endpoint = moto_endpoint  # callable: moto starts after this object is made
        self._credentials = credentials
        self._base_tmp = base_tmp
        self._lock = asyncio.Lock()
        self._pool: Pool | None = None
        self._shipper: LogShipper | None = None
        self._launcher = SpawnLauncher()

    @property
    def started(self) -> Pool | None:
        return self._pool

    async def pool(self) -> Pool:
        async with self._lock:
            if self._pool is None:
                await self._start()
            assert self._pool is not None
            return self._pool

    async def _start(self) -> None:
        self._shipper = LogShipper(
            self._moto_endpoint(), self.config.region, self._credentials, self.log_group, self.profile.ingestion_delay_s
        )
        await self._shipper.start()
        lines = PlatformLines(
            self.profile.log_format,
            self.config.region,
            self.config.function_name,
            self.config.version,
            self.config.function_arn,
            self.config.memory_mb,
            "on-demand",
        )
        shipper = self._shipper

        def make_env(host):
            return Environment(self.config, host, self._launcher, shipper.add, lines, self._base_tmp)

        pool = Pool(self.profile, make_env, self._base_tmp)
        await pool.start()
        self._pool = pool

    def kill_now(self) -> None:
        if self._pool is not None:
            self._pool.kill_all_now()

    async def stop(self) -> None:
        pool, self._pool = self._pool, None
        try:
            if pool is not None:
                await pool.stop()
        finally:
            if self._shipper is not None:
                shipper, self._shipper = self._shipper, None
                await shipper.stop()
