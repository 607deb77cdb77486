"""Profiles: the knobs of the local Lambda's placement, scaling and lifetime model, from TOML.

A profile file has the sections [function], [scaling], [placement], [lifetime], [logs] and a list
of [[hosts]]; every key is optional (defaults below). Two ship with the package: `today`
(current AWS scaling, the default) and `blog` (the 2018 blog's observations). A bad file raises
ValueError with one line that names the file, the key and the fix.
"""

import os
import tomllib
from dataclasses import dataclass, field, fields

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
    runtime: str = "awslambdaric"  # awslambdaric | fork
    log_format: str = "text"  # text | json
    concurrency_limit: int = 1000
    # Round-trip latency the front door adds to every request (the internet between a client and
    # Lambda). It paces closed-loop clients the way the blog's `ab` was paced; not in Duration.
    network_latency_ms: float = 0.0
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
    hosts: list[HostSpec] = field(default_factory=list)


_SECTIONS = {
    "function": ("memory_mb", "timeout_s", "runtime", "log_format", "concurrency_limit",
                 "network_latency_ms"),
    "scaling": ("burst", "steps", "interval_s", "max_tokens", "batch"),
    "placement": ("strategy", "warm_choice"),
    "lifetime": ("idle_reclaim_s", "env_max_lifetime_s"),
    "logs": ("ingestion_delay_s",),
}
_CHOICES = {
    "runtime": ("awslambdaric", "fork"),
    "log_format": ("text", "json"),
    "strategy": ("binpack", "spread"),
    "warm_choice": ("mru", "lru", "random"),
}
_HOST_KEYS = {f.name for f in fields(HostSpec)}


def shipped_profiles() -> list[str]:
    return sorted(f[:-5] for f in os.listdir(PROFILES_DIR) if f.endswith(".toml"))


def load_profile(source: str | None = None) -> Profile:
    """A shipped profile by name ("today", "blog"), a TOML file path, or the default (None)."""
    if source is None:
        source = DEFAULT_PROFILE
    path = source
    if not os.path.exists(path) and source in shipped_profiles():
        path = os.path.join(PROFILES_DIR, f"{source}.toml")
    label = os.path.basename(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"profile file {source!r} not found: give a readable .toml path "
                         f"or one of {', '.join(shipped_profiles())}") from None
    except OSError as exc:
        raise ValueError(f"profile file {source!r} cannot be read ({exc.strerror}): "
                         "check its path and permissions") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"profile {label} is not valid TOML ({exc}): fix the syntax") from None
    return parse_profile(data, label)


def parse_profile(data: dict, label: str = "profile") -> Profile:
    prof = Profile(name=str(data.get("name", os.path.splitext(label)[0])),
                   description=str(data.get("description", "")))
    for key in data:
        if key not in _SECTIONS and key not in ("name", "description", "hosts"):
            raise ValueError(f"{label}: unknown section or key {key!r}; known: "
                             f"{', '.join([*_SECTIONS, 'hosts', 'name', 'description'])}")
    for section, keys in _SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ValueError(f"{label}: [{section}] must be a table")
        for key, value in table.items():
            if key not in keys:
                raise ValueError(f"{label}: unknown key {key!r} in [{section}]; "
                                 f"known: {', '.join(keys)}")
            setattr(prof, key, _check(label, section, key, value, getattr(prof, key)))
    hosts = data.get("hosts", [])
    if not isinstance(hosts, list):
        raise ValueError(f"{label}: hosts must be an array of tables ([[hosts]])")
    names = set()
    for i, host in enumerate(hosts):
        if not isinstance(host, dict) or "name" not in host:
            raise ValueError(f"{label}: [[hosts]] #{i + 1} needs a name = \"...\"")
        unknown = set(host) - _HOST_KEYS
        if unknown:
            raise ValueError(f"{label}: unknown key {sorted(unknown)[0]!r} in [[hosts]] "
                             f"{host['name']!r}; known: {', '.join(sorted(_HOST_KEYS))}")
        spec = HostSpec(name=str(host["name"]))
        for key, value in host.items():
            setattr(spec, key, _check(label, f"hosts {host['name']}", key, value,
                                      getattr(spec, key)))
        if spec.slots < 1:
            raise ValueError(f"{label}: host {spec.name!r} needs slots >= 1")
        if spec.name in names:
            raise ValueError(f"{label}: host name {spec.name!r} is used twice; names must differ")
        names.add(spec.name)
        prof.hosts.append(spec)
    _check_ranges(prof, label)
    return prof


def _check(label, section, key, value, default):
    where = f"{label}: [{section}] {key}"
    if key in _CHOICES:
        if value not in _CHOICES[key]:
            raise ValueError(f"{where} must be one of {', '.join(_CHOICES[key])} (got {value!r})")
        return value
    if key in ("idle_reclaim_s", "env_max_lifetime_s", "lifetime_s"):
        # 0 or a negative number switches the timer off (TOML has no null).
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where} must be a number of seconds, 0 for never (got {value!r})")
        return float(value) if value > 0 else None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false (got {value!r})")
        return value
    if isinstance(default, list):
        if (not isinstance(value, list) or not value
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                           for v in value)):
            raise ValueError(f"{where} must be a non-empty list of positive integers "
                             f"(got {value!r})")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{where} must be a number >= 0 (got {value!r})")
        return float(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{where} must be a whole number >= 0 (got {value!r})")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a string (got {value!r})")
        return value
    return value


def _check_ranges(prof: Profile, label: str) -> None:
    if not 128 <= prof.memory_mb <= 10240:
        raise ValueError(f"{label}: [function] memory_mb must be 128..10240 (got {prof.memory_mb})")
    if not 0 < prof.timeout_s <= 900:
        raise ValueError(
            f"{label}: [function] timeout_s must be in (0, 900] (got {prof.timeout_s})")
    if prof.interval_s <= 0:
        raise ValueError(f"{label}: [scaling] interval_s must be > 0 (got {prof.interval_s})")
    if prof.burst < 1:
        raise ValueError(f"{label}: [scaling] burst must be >= 1 (got {prof.burst})")
