"""Profiles: the knobs of the local Lambda's placement, scaling and lifetime model, from TOML.

A profile file has the sections [function], [scaling], [placement], [lifetime], [logs],
[capacity_provider], [machine], [load] and a list of [[hosts]]; every key is optional (defaults
below). Shipped with the package: `today` (current AWS scaling, the default), `blog` (the 2018
blog's observations), `lmi`, `snapstart` and `scale` (Lambda's own scale: 1,000 environments
held). A bad file raises
ValueError with one line that names the file, the key and the fix.
"""

import math
import os
import tomllib
from dataclasses import dataclass, field, fields

from probe.extension.layer import EXTENSION_NAME, layer_path
from probe.local.hosts import HostSpec

PROFILES_DIR = os.path.join(os.path.dirname(__file__), "profiles")
DEFAULT_PROFILE = "today"


@dataclass
class Profile:
    name: str = "custom"
    description: str = ""
    # [function]
    memory_mb: int = 128
    timeout_s: float = 3.0
    runtime: str = "awslambdaric"  # awslambdaric | awslambdaric-fork | fork
    log_format: str = "text"  # text | json
    concurrency_limit: int = 1000
    # Round-trip latency the front door adds to every request (the internet between a client and
    # Lambda). It paces closed-loop clients the way the blog's `ab` was paced; not in Duration.
    network_latency_ms: float = 0.0
    # The function's code: empty for lambdascope's probe, else a user's `FILE.py:FUNCTION`, and
    # its layers (folders or zips, Lambda's order): both relative to the profile's folder.
    handler: str = ""
    layers: list[str] = field(default_factory=list)
    # [scaling]: a start allowance of `burst` environments, then `steps[i]` more every
    # `interval_s` (the last step repeats), never holding more than `max_tokens` unused.
    burst: int = 1000
    steps: list[int] = field(default_factory=lambda: [100])
    interval_s: float = 1.0
    max_tokens: int = 1000
    # true: when requests were throttled for lack of environments, the next step's allowance
    # starts as one batch, together, on a host picked for the batch (the blog's groups).
    batch: bool = False
    # [placement]
    strategy: str = "binpack"  # binpack | spread
    warm_choice: str = "mru"  # mru | lru | random
    # [lifetime]
    idle_reclaim_s: float | None = 600.0
    env_max_lifetime_s: float | None = 7200.0
    # [logs]
    ingestion_delay_s: float = 0.0
    # [function] what kind of Lambda: on-demand (Event functions), snapstart (restored from a
    # snapshot of a published version), lmi (Lambda Managed Instances: many requests at once)
    mode: str = "on-demand"
    version: str = "$LATEST"  # snapstart and lmi run a published version ("1")
    max_concurrency: int = 1  # lmi: PerExecutionEnvironmentMaxConcurrency
    # [capacity_provider] (lmi): environments kept from publish on, and the most it scales to
    capacity_provider: str = "lambdascope-local"
    min_environments: int = 3
    max_environments: int = 30
    # [machine]: environment processes this machine may run (0 = auto: capacity.machine_cap)
    max_processes: int = 0
    queue_wait_s: float = 1.0  # how long a request waits for room on this machine before a 429
    init_slots: int = 0  # inits that run at once here (0 = auto: capacity.init_slots)
    # [load]: how long the probe holds each request (its event's hold_ms) when a run on this
    # profile gives no --hold: the environment stays busy, asleep. 0: no hold. It must end before
    # the function's timeout (checked here). Read by the load side; the local Lambda only
    # carries it (the probe itself sleeps).
    hold_ms: int = 0
    hosts: list[HostSpec] = field(default_factory=list)

    @property
    def init_type(self) -> str:
        """AWS's initializationType for this mode."""
        return {"snapstart": "snap-start", "lmi": "lambda-managed-instances"}.get(self.mode, "on-demand")

    @property
    def processes_per_env(self) -> int:
        # awslambdaric in multi-concurrent mode: one parent plus one worker per request slot
        return self.max_concurrency + 1 if self.mode == "lmi" else 1


_SECTIONS = {
    "function": (
        "memory_mb",
        "timeout_s",
        "runtime",
        "log_format",
        "concurrency_limit",
        "network_latency_ms",
        "mode",
        "version",
        "max_concurrency",
        "handler",
        "layers",
    ),
    "scaling": ("burst", "steps", "interval_s", "max_tokens", "batch"),
    "placement": ("strategy", "warm_choice"),
    "lifetime": ("idle_reclaim_s", "env_max_lifetime_s"),
    "logs": ("ingestion_delay_s",),
    "capacity_provider": ("capacity_provider", "min_environments", "max_environments"),
    "machine": ("max_processes", "queue_wait_s", "init_slots"),
    "load": ("hold_ms",),
}
# Keys whose TOML name differs from the attribute (a section's own `name`).
_RENAMED = {("capacity_provider", "name"): "capacity_provider"}
_CHOICES = {
    "runtime": ("awslambdaric", "awslambdaric-fork", "fork"),
    "log_format": ("text", "json"),
    "strategy": ("binpack", "spread"),
    "warm_choice": ("mru", "lru", "random"),
    "mode": ("on-demand", "snapstart", "lmi"),
    "arch": ("x86_64", "arm64"),  # a host's
}
_HOST_KEYS = {f.name for f in fields(HostSpec)}
MAX_COUNT = 1_000_000  # environments, slots, tokens: far beyond any one machine
MAX_STEPS = 1000
MAX_PROFILE_BYTES = 1024 * 1024  # a profile file is a page of TOML
WEEK_S = 7 * 24 * 3600.0
# Upper bounds per key (lower bounds are in _check and _check_ranges).
_CEILINGS = {
    "timeout_s": 900.0,
    "memory_mb": 10240,
    "concurrency_limit": MAX_COUNT,
    "network_latency_ms": 60_000.0,
    "burst": MAX_COUNT,
    "interval_s": 3600.0,
    "max_tokens": MAX_COUNT,
    "idle_reclaim_s": WEEK_S,
    "env_max_lifetime_s": WEEK_S,
    "ingestion_delay_s": 3600.0,
    "lifetime_s": WEEK_S,
    "slots": MAX_COUNT,
    "vcpus": 1024,
    "mem_total_kb": 2**40,
    "lifetime_requests": 10**9,
    "max_environments": 15_000,
    "min_environments": 15_000,
    "max_concurrency": 64 * 16,
    "max_processes": MAX_COUNT,
    "queue_wait_s": 60.0,
    "init_slots": 4096,
    "hold_ms": 900_000,
    "mhz": 100_000.0,
    "bogomips": 1_000_000.0,
}


def shipped_profiles() -> list[str]:
    return sorted(f[:-5] for f in os.listdir(PROFILES_DIR) if f.endswith(".toml"))


def load_profile(source: str | None = None) -> Profile:
    """A shipped profile by name ("today", "blog"), a TOML file path, or the default (None)."""
    if source is None:
        source = DEFAULT_PROFILE
    path = source
    # A shipped name wins over anything but a file of that name: a folder called "blog" (an
    # export, say) in the working directory must not shadow the blog profile.
    if not os.path.isfile(path) and source in shipped_profiles():
        path = os.path.join(PROFILES_DIR, f"{source}.toml")
    label = os.path.basename(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PROFILE_BYTES + 1)  # a profile is a page of TOML: never read more
        if len(raw) > MAX_PROFILE_BYTES:
            raise ValueError(
                f"profile {label} is over {MAX_PROFILE_BYTES // 1024} KiB, which no profile is: "
                "give a profile .toml file"
            )
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise ValueError(
            f"profile file {source!r} not found: give a readable .toml path or one of {', '.join(shipped_profiles())}"
        ) from None
    except OSError as exc:
        raise ValueError(
            f"profile file {source!r} cannot be read ({exc.strerror}): check its path and permissions"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"profile {label} is not valid TOML ({exc}): fix the syntax") from None
    return parse_profile(data, label, os.path.dirname(os.path.abspath(path)))


def parse_profile(data: dict, label: str = "profile", base_dir: str = ".") -> Profile:
    prof = Profile(name=str(data.get("name", os.path.splitext(label)[0])), description=str(data.get("description", "")))
    for key in data:
        if key not in _SECTIONS and key not in ("name", "description", "hosts"):
            raise ValueError(
                f"{label}: unknown section or key {key!r}; known: "
                f"{', '.join([*_SECTIONS, 'hosts', 'name', 'description'])}"
            )
    for section, keys in _SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ValueError(f"{label}: [{section}] must be a table")
        known = [k for (sec, k), attr in _RENAMED.items() if sec == section] + [
            k for k in keys if (section, k) not in {(s, a) for (s, _), a in _RENAMED.items()}
        ]
        for key, value in table.items():
            attr = _RENAMED.get((section, key), key)
            if key not in known:
                raise ValueError(f"{label}: unknown key {key!r} in [{section}]; known: {', '.join(known)}")
            setattr(prof, attr, _check(label, section, key, value, getattr(prof, attr)))
    hosts = data.get("hosts", [])
    if not isinstance(hosts, list):
        raise ValueError(f"{label}: hosts must be an array of tables ([[hosts]])")
    names = set()
    for i, host in enumerate(hosts):
        if not isinstance(host, dict) or "name" not in host:
            raise ValueError(f'{label}: [[hosts]] #{i + 1} needs a name = "..."')
        unknown = set(host) - _HOST_KEYS
        if unknown:
            raise ValueError(
                f"{label}: unknown key {sorted(unknown)[0]!r} in [[hosts]] "
                f"{host['name']!r}; known: {', '.join(sorted(_HOST_KEYS))}"
            )
        spec = HostSpec(name=str(host["name"]))
        for key, value in host.items():
            setattr(spec, key, _check(label, f"hosts {host['name']}", key, value, getattr(spec, key)))
        if spec.slots < 1:
            raise ValueError(f"{label}: host {spec.name!r} needs slots >= 1")
        if spec.name in names:
            raise ValueError(f"{label}: host name {spec.name!r} is used twice; names must differ")
        names.add(spec.name)
        prof.hosts.append(spec)
    _check_ranges(prof, label)
    _resolve_code(prof, label, base_dir)
    return prof


def with_code(prof: Profile, handler: str | None, layers: list[str] | None) -> Profile:
    """The profile running a user's handler and layers given on the command line (`--handler`,
    `--layer`, relative to the working folder), over the profile's own; ValueError, one line."""
    if handler:
        prof.handler = handler
    if layers:
        prof.layers = list(layers)
    if layers and len(prof.layers) > 5:
        raise ValueError(f"--layer: at most 5 layers, as Lambda allows (got {len(prof.layers)})")
    if handler or layers:
        _resolve_code(prof, "", ".")
    return prof


def _resolve_code(prof: Profile, label: str, base_dir: str) -> None:
    """The handler's file and the layers, checked now and made absolute (a run may start from
    another folder than the profile's). `label` names the profile file ("" for the flags)."""
    where = f"{label}: [function] " if label else "--"
    if prof.handler:
        from probe.local.user_code import resolve_handler

        try:
            resolve_handler(prof.handler, base_dir)
        except ValueError as exc:
            raise ValueError(f"{where}{exc}") from None
        path, _, func = prof.handler.rpartition(":")
        prof.handler = f"{os.path.abspath(os.path.join(base_dir, path))}:{func}"
    layers = []
    for layer in prof.layers:
        full = os.path.abspath(os.path.join(base_dir, layer))
        if layer == EXTENSION_NAME and not os.path.exists(full):
            full = layer_path()  # lambdascope's own extension layer, by its name
        if not os.path.exists(full):
            raise ValueError(
                f"{where}layer {full} not found: give a layer folder or .zip "
                f"(or {EXTENSION_NAME}, lambdascope's extension that names the host)"
            )
        layers.append(full)
    prof.layers = layers


def _check(label, section, key, value, default):
    where = f"{label}: [{section}] {key}"
    if key in _CHOICES:
        if value not in _CHOICES[key]:
            raise ValueError(f"{where} must be one of {', '.join(_CHOICES[key])} (got {value!r})")
        return value
    if key in ("idle_reclaim_s", "env_max_lifetime_s", "lifetime_s"):
        # 0 or a negative number switches the timer off (TOML has no null).
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{where} must be a number of seconds, 0 for never (got {value!r})")
        return _bounded(where, key, float(value)) if value > 0 else None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false (got {value!r})")
        return value
    if key == "layers":
        if not isinstance(value, list) or len(value) > 5 or not all(isinstance(v, str) and v for v in value):
            raise ValueError(
                f"{where} must be a list of at most 5 layer folders or zips, as Lambda allows (got {value!r})"
            )
        return value
    if isinstance(default, list):
        if (
            not isinstance(value, list)
            or not value
            or len(value) > MAX_STEPS
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_COUNT for v in value)
        ):
            raise ValueError(
                f"{where} must be a non-empty list of positive integers "
                f"(at most {MAX_STEPS:,}, each at most {MAX_COUNT:,}; got {value!r})"
            )
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{where} must be a number >= 0 (got {value!r})")
        return _bounded(where, key, float(value))
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{where} must be a whole number >= 0 (got {value!r})")
        return _bounded(where, key, value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a string (got {value!r})")
        return value
    return value


def _bounded(where: str, key: str, value):
    """Every number has a finite, sane ceiling: NaN, inf and 1e300 are typos, not settings."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number (got {value!r})")
    ceiling = _CEILINGS.get(key)
    if ceiling is not None and value > ceiling:
        shown = int(ceiling) if float(ceiling).is_integer() else ceiling
        raise ValueError(f"{where} must be at most {shown:,} (got {value!r})")
    return value


def _check_ranges(prof: Profile, label: str) -> None:
    if not 128 <= prof.memory_mb <= 10240:
        raise ValueError(f"{label}: [function] memory_mb must be 128..10240 (got {prof.memory_mb})")
    if not 0 < prof.timeout_s <= 900:
        raise ValueError(f"{label}: [function] timeout_s must be in (0, 900] (got {prof.timeout_s})")
    if prof.interval_s <= 0:
        raise ValueError(f"{label}: [scaling] interval_s must be > 0 (got {prof.interval_s})")
    if prof.burst < 1:
        raise ValueError(f"{label}: [scaling] burst must be >= 1 (got {prof.burst})")
    if prof.max_concurrency < 1:
        raise ValueError(f"{label}: [function] max_concurrency must be >= 1")
    if prof.max_concurrency > 1 and prof.mode != "lmi":
        raise ValueError(
            f'{label}: [function] max_concurrency > 1 needs mode = "lmi" '
            "(only Managed Instances serve several requests per environment)"
        )
    if prof.mode != "on-demand" and prof.runtime != "awslambdaric":
        # SnapStart restores and Managed Instances' worker processes are built on a spawned
        # runtime; the forked ones are tried for on-demand only.
        raise ValueError(
            f'{label}: [function] mode = "{prof.mode}" needs '
            f'runtime = "awslambdaric" (the {prof.runtime} runtime has no such mode)'
        )
    if prof.mode == "lmi" and prof.max_environments < max(1, prof.min_environments):
        raise ValueError(
            f"{label}: [capacity_provider] max_environments must be >= "
            f"min_environments and >= 1 (got {prof.max_environments})"
        )
    if prof.hold_ms and prof.hold_ms >= prof.timeout_s * 1000:
        raise ValueError(
            f"{label}: [load] hold_ms {prof.hold_ms:,} would pass the function's timeout "
            f"({prof.timeout_s:g} s): lower hold_ms or raise [function] timeout_s"
        )
    if not prof.version or any(c.isspace() for c in prof.version):
        raise ValueError(f'{label}: [function] version must be a version like "1" or "$LATEST" (got {prof.version!r})')
