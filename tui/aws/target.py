"""What lambdascope points at: the embedded local Lambda, or a function on AWS.

A `Target` is everything the rest needs, whichever it is: where to send load, where to read
logs, with which credentials, and what to call it on screen. Changing the target is all it takes
to go from local to AWS (a function on AWS is read in tui/aws/aws_target.py).
"""

from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from tui.core.errors import UserError
from tui.core.limits import ConcurrencyLimits, concurrency_warning, hold_refusal, max_hold_ms


@dataclass
class Target:
    label: str  # what the header says: "LOCAL (simulated hosts)" or "my-fn (eu-west-1)"
    kind: str  # "local" | "aws"
    function_name: str
    region: str
    log_group: str
    function_url: str | None = None
    invoke_endpoint: str | None = None  # None on AWS: the SDK's default endpoint
    logs_endpoint: str | None = None
    profile: str | None = None
    # Static keys for the local Lambda's moto only. On AWS this stays None and the standard
    # credential chain is used, so no key is ever held here (or printed from here).
    local_credentials: dict | None = None
    auth: str = "NONE"  # function URL AuthType: "NONE" or "AWS_IAM" (SigV4-signed)
    simulated_hosts: bool = False
    local_profile: str | None = None  # the local Lambda's profile name ("today", "blog", …)
    # Managed Instances: the capacity provider's system log group, read beside the function's
    # (instance ids, AZs, launches and terminations). None for any other function.
    capacity_provider_log_group: str | None = None
    # The function's timeout (GetFunctionConfiguration's Timeout; the local profile's timeout_s):
    # what bounds the probe's hold. None when it could not be read.
    timeout_s: float | None = None
    # What Lambda lets this function run at once (GetAccountSettings, GetFunctionConcurrency);
    # None when they could not be read (`limits_note` says why).
    limits: ConcurrencyLimits | None = None
    limits_note: str | None = None
    # The local Lambda running a user's handler and layers: one line saying which, and where its
    # layers are (at /opt or not). None for the probe and on AWS.
    local_code: str | None = None
    extra: dict = field(default_factory=dict)
    # What each request carries when the function is not the probe (tui/aws/request.py):
    # `payload` (the Invoke API's event), or `method`/`path`/`headers`/`body` for a function URL.
    request: dict = field(default_factory=dict)

    @property
    def max_hold_ms(self) -> int | None:
        """The longest hold this function's timeout allows the probe (None: unknown)."""
        return None if self.timeout_s is None else max_hold_ms(self.timeout_s, _hold_margin_ms())

    def bound(self, plan, ramp_plan=None):
        """`plan` bounded by this function's timeout (the hold keys step within it), or a
        UserError when the hold, or any stage's hold in `ramp_plan`, would pass the timeout."""
        fix = (
            "raise the timeout ([function] timeout_s in --profile-file)"
            if self.kind == "local"
            else "raise its timeout (aws lambda update-function-configuration --function-name "
            f"{self.function_name} --timeout N)"
        )
        refuse_hold(plan, ramp_plan, self.timeout_s, self.function_name, fix)
        return plan if self.max_hold_ms is None else plan.with_max_hold(self.max_hold_ms)

    def concurrency_warning(self, asked: int) -> str | None:
        """One line when `asked` concurrent requests are more than Lambda will run of this
        function (else None)."""
        return concurrency_warning(asked, self.limits, self.function_name)

    def describe(self) -> dict:
        """For snapshots: where the data came from. Never credentials."""
        return {
            "kind": self.kind,
            "label": self.label,
            "function_name": self.function_name,
            "region": self.region,
            "log_group": self.log_group,
            "function_url": self.function_url,
            "simulated_hosts": self.simulated_hosts,
            **({"local_profile": self.local_profile} if self.local_profile else {}),
            **(
                {"capacity_provider_log_group": self.capacity_provider_log_group}
                if self.capacity_provider_log_group
                else {}
            ),
            "profile": self.local_profile,  # DESIGN.md: source.profile, None on AWS
            **({"local_code": self.local_code} if self.local_code else {}),
        }

    @property
    def http_client(self) -> str:
        """Which loadgen client sends the load. On plain HTTP (the local Lambda, LocalStack) the
        tool itself can be the bottleneck, and the lean HTTP/1.1 client costs a fraction of
        aiohttp's CPU per request (tests/bench/bench_loadgen.py; the README keeps the table). Over
        TLS to AWS, latency dominates and aiohttp's broader HTTP handling is worth its CPU."""
        url = self.function_url or self.invoke_endpoint or ""
        return "fast" if url.startswith("http://") else "aiohttp"

    def load_spec(self, use_invoke: bool = False) -> dict:
        """A picklable description of where load goes (loadgen.targets.target_from_spec), with
        the user's request when there is one (`--payload` means the Invoke API)."""
        url_shape = {k: v for k, v in self.request.items() if k != "payload"}
        payload = self.request.get("payload")
        if use_invoke or payload is not None or not self.function_url:
            if url_shape:
                flags = ", ".join(f"--{k.rstrip('s')}" for k in url_shape)
                raise UserError(
                    f"{flags} shape a function URL request, and {self.function_name} is loaded through the "
                    "Invoke API here: drop --invoke (or give --url), or send an event with --payload FILE"
                )
            spec = {
                "kind": "invoke",
                "endpoint_url": self.invoke_endpoint,
                "function_name": self.function_name,
                "region": self.region,
                "profile": self.profile,
            }
            if self.local_credentials:
                # The local Lambda's fixed test keys (never a user's): the load signs with them,
                # so a machine without AWS credentials can load the local Invoke API.
                creds = self.local_credentials
                spec["keys"] = [creds["aws_access_key_id"], creds["aws_secret_access_key"]]
            return {**spec, "payload": payload} if payload is not None else spec
        return {
            "kind": "url",
            "url": self.function_url,
            "auth": self.auth.lower(),
            "region": self.region,
            "profile": self.profile,
            **url_shape,
        }


def refuse_hold(plan, ramp_plan, timeout_s: float | None, function: str, fix: str) -> None:
    """A UserError when the plan's hold (or any stage's, with `ramp_plan`) would pass the timeout."""
    hold, flag = plan.hold_ms, "--hold"
    if ramp_plan is not None:
        hold = ramp_plan.max_hold_ms(plan.hold_ms)
        if any(s.hold_ms == hold for s in ramp_plan.stages):
            flag = "a --plan stage's hold"
    refusal = hold_refusal(hold, timeout_s, _hold_margin_ms(), function, flag, fix)
    if refusal:
        raise UserError(refusal)


def _hold_margin_ms() -> int:
    from probe.handler import HOLD_MARGIN_MS  # the probe's own margin: one number, one place

    return HOLD_MARGIN_MS


class LocalTarget:
    """The embedded local Lambda for the duration of `async with LocalTarget(...) as target`;
    all of it stopped after.

    Made before the block: the profile is read here, so a bad one is one line before any screen.
    moto's process is the slowest part (~0.8 s to boot): `spawn()` starts it early (the monitor
    does, as soon as its first frame is drawn), else entering does; entering then imports the
    local Lambda (aiobotocore, ~0.5 s) in a thread while moto boots, so the two overlap on two
    cores (tests/bench/bench_startup.py)."""

    def __init__(
        self,
        profile_file: str | None = None,
        concurrency_limit: int | None = None,
        kinesis: bool = False,
        handler: str | None = None,
        layers: list[str] | None = None,
        apart: bool = False,
    ):
        from probe.local.profile import load_profile, with_code

        self._kinesis = kinesis  # set up the Kinesis log channel at start (`local --kinesis`)
        # In a process of its own (`lambdascope local`, tui/aws/local_process.py), as the
        # commands run it; in this one (`extra["local"]`, the LocalLambda itself) for tests.
        self.apart = apart
        self._asked = (profile_file, handler, layers)
        try:
            profile = load_profile(profile_file) if profile_file else load_profile()
            self.profile = with_code(profile, handler, layers)  # --handler, --layer
        except (OSError, ValueError) as exc:
            raise UserError(str(exc).splitlines()[0] if str(exc) else f"cannot read {profile_file}") from None
        self._concurrency_limit = concurrency_limit
        self.timeout_s = self.profile.timeout_s  # known before anything starts: a bad --hold is said first
        self._running = None
        self._moto = None  # spawned, not yet handed to the local Lambda
        self.request: dict = {}  # the request flags' request, handed to the Target it yields

    def check(self, plan, ramp_plan=None) -> None:
        """Refuse, before anything starts, a hold the profile's timeout cannot take."""
        refuse_hold(
            plan,
            ramp_plan,
            self.timeout_s,
            f"the local Lambda (profile {self.profile.name})",
            "raise the timeout ([function] timeout_s in --profile-file)",
        )

    def spawn(self) -> "LocalTarget":
        """Start moto's process now (Popen: milliseconds) to boot while the caller does its own
        start-up; entering adopts it, and `close()` stops it if nothing ever entered. Apart, the
        local Lambda's own process starts its moto."""
        from probe.local.moto_server import MotoServer

        if self._moto is None and not self.apart:
            self._moto = MotoServer().spawn()
        return self

    def close(self) -> None:
        """Stop a spawned moto that no local Lambda adopted (a quit before the start ran)."""
        moto, self._moto = self._moto, None
        if moto is not None:
            moto.stop_blocking()

    async def __aenter__(self) -> "Target":
        self._running = self._run()
        return await self._running.__aenter__()

    async def __aexit__(self, *exc):
        return await self._running.__aexit__(*exc)

    @asynccontextmanager
    async def _run_apart(self):
        from dataclasses import replace

        from tui.aws.clients import LOCAL_CREDENTIALS
        from tui.aws.local_process import command, local_process

        profile_file, handler, layers = self._asked
        argv = command(profile_file, self._concurrency_limit, self._kinesis, handler, layers)
        profile = self.profile
        if self._concurrency_limit is not None:
            profile = replace(profile, concurrency_limit=self._concurrency_limit)
        async with local_process(argv) as (info, pid):
            # The local Lambda's fixed test keys, as every local Lambda has them (never a user's).
            keys = dict(LOCAL_CREDENTIALS)
            yield local_target(info, profile, keys, extra={"local_pid": pid}, request=self.request)

    @asynccontextmanager
    async def _run(self):
        import asyncio
        import importlib

        if self.apart:
            async with self._run_apart() as target:
                yield target
            return
        self.spawn()  # if the caller did not already
        moto, self._moto = self._moto, None  # adopted: from here on the local Lambda stops it
        kwargs = {"profile": self.profile, "moto": moto}
        if self._concurrency_limit is not None:
            kwargs["concurrency_limit"] = self._concurrency_limit
        try:
            local_lambda = await asyncio.to_thread(importlib.import_module, "probe.local.local_lambda")
            ll = local_lambda.LocalLambda(**kwargs)
        except BaseException:
            await asyncio.shield(moto.stop())  # nobody adopted it yet
            raise
        async with ll:
            key, secret = ll.credentials
            keys = {"aws_access_key_id": key, "aws_secret_access_key": secret}
            target = local_target(ll.endpoints(), ll.profile, keys, extra={"local": ll}, request=self.request)
            if self._kinesis:
                await setup_local_kinesis(target)
            yield target


def local_target(info: dict, profile, credentials: dict, *, extra: dict, request: dict) -> "Target":
    """The Target of a local Lambda from its endpoints (`LocalLambda.endpoints()`, the line
    `lambdascope local` prints): the same whether it runs in this process or its own."""
    extra = dict(extra)
    if info.get("status_url"):
        extra["status_url"] = info["status_url"]  # its own counters: the start queue (tui/aws/local_status.py)
    if info.get("moto_endpoint"):
        extra["moto_endpoint"] = info["moto_endpoint"]
    if info.get("kinesis_stream_arn"):
        extra["kinesis"] = {k: info[k] for k in ("kinesis_stream", "kinesis_stream_arn") if k in info}
    return Target(
        label="LOCAL (simulated hosts)",
        kind="local",
        function_name=info["function_name"],
        region=info["region"],
        log_group=info["log_group"],
        function_url=info["function_url"],
        invoke_endpoint=info["invoke_endpoint"],
        logs_endpoint=info["logs_endpoint"],
        local_credentials=credentials,
        simulated_hosts=True,
        local_profile=profile.name,
        capacity_provider_log_group=info.get("capacity_provider_log_group"),
        timeout_s=profile.timeout_s,
        # The local Lambda's own limit, as its GetAccountSettings answers it.
        limits=ConcurrencyLimits(
            profile.concurrency_limit, profile.concurrency_limit, None, "the local Lambda's profile"
        ),
        local_code=_code_line(info),
        extra=extra,
        request=request,
    )


def _code_line(info: dict) -> str | None:
    """Which code the local Lambda runs, when it is not the probe, and where its layers are."""
    parts = []
    if info.get("code_root"):
        parts.append(f"your handler {info.get('handler')} from {info['code_root']}")
    if info.get("layers"):
        parts.append(info["layers"])
    return "; ".join(parts) or None


async def setup_local_kinesis(target: "Target") -> dict:
    """The Kinesis log channel on the embedded local Lambda's moto (stream, role, subscription
    filters: `deploy --kinesis`'s own code), once; its summary is kept in `target.extra`."""
    if "kinesis" not in target.extra:
        from probe.deploy_kinesis import ensure_local

        target.extra["kinesis"] = await ensure_local(target.extra["local"])
    return target.extra["kinesis"]


def open_target(args):
    """The target the command line names: a function on AWS, else the local Lambda, carrying
    the request flags' request (checked here, before anything starts)."""
    from tui.aws.request import request_shape

    request = request_shape(args)
    opening = _open_target(args)
    if request and isinstance(opening, LocalTarget):
        opening.request = request  # the commands keep the LocalTarget itself (spawn, check)
    elif request:
        opening = _with_request(opening, request)
    return opening


@asynccontextmanager
async def _with_request(opening, request: dict):
    async with opening as target:
        target.request = request
        yield target


def _open_target(args):
    function = getattr(args, "function", None)
    url = getattr(args, "url", None)
    for flag, dest in (("handler", "code_handler"), ("layer", "layer")):
        if getattr(args, dest, None) and (function or url):
            raise UserError(
                f"--{flag} runs your code on the local Lambda; a function on AWS runs its own: drop --{flag} "
                "(to name its hosts: lambdascope attach --function F)"
            )
    if function or url:
        from tui.aws.aws_target import aws_target  # here: it imports this module's Target

        return aws_target(
            function,
            url,
            getattr(args, "region", None),
            getattr(args, "profile", None),
            getattr(args, "endpoint_url", None),
            getattr(args, "invoke", False),
            getattr(args, "capacity_provider", None),
        )
    profile = getattr(args, "profile", None)
    if profile:
        # The easy slip: --profile blog, meaning the local Lambda's profile, would run `today`.
        raise UserError(
            f"--profile {profile} is an AWS profile, used only with --function or --url; "
            f"for a local Lambda profile use --profile-file {profile}"
        )
    if getattr(args, "capacity_provider", None):
        raise UserError(
            "--capacity-provider is for a function on AWS (with --function); "
            "the local Lambda's lmi profile reads its own capacity provider's log"
        )
    return LocalTarget(
        getattr(args, "profile_file", None),
        handler=getattr(args, "code_handler", None),
        layers=getattr(args, "layer", None),
        kinesis=getattr(args, "logs", None) == "kinesis",
    )
