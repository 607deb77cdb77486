"""What a local function is (`FunctionConfig`: its name, code, limits, layers) and what one of
its invocations gives back (`InvocationResult`), shared by its environments
(probe/local/environment.py), the pool that holds them and the front doors that map results onto
HTTP."""

import asyncio
from dataclasses import dataclass


@dataclass
class FunctionConfig:
    function_name: str
    region: str
    account: str
    handler: str
    memory_mb: int
    timeout_s: float
    runtime: str
    log_format: str
    version: str = "$LATEST"
    mode: str = "on-demand"  # on-demand | snapstart | lmi
    max_concurrency: int = 1
    layers: tuple[str, ...] = ()  # layer folders, in order (probe/local/extensions.py)
    # The one folder the layers were merged into, when every environment process sees it at
    # /opt (probe/local/opt_mount.py); None: the layers are read from their own folders.
    opt: str | None = None
    # The folder the handler's module is imported from (Lambda's /var/task); None: the one that
    # holds the `probe` package, for the probe and the tests' handlers.
    code_root: str | None = None
    # A custom runtime's command (its bootstrap), instead of awslambdaric running `handler`.
    runtime_argv: tuple[str, ...] = ()

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"


@dataclass
class InvocationResult:
    """What one invocation produced, for the front door to map onto HTTP."""

    request_id: str
    status: str  # ok | error (handler raised) | timeout | crash (runtime died)
    body: bytes
    error_type: str | None
    tail: str  # this invocation's log lines, newline-joined, the last 4 KB (environment.TAIL_BYTES)
    # Set while extensions registered for INVOKE still post-process: the invoke phase (and the
    # environment's busy time) ends when it does; the caller has its answer already.
    settled: asyncio.Future | None = None
