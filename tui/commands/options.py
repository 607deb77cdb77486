"""Flags and checks shared by several commands, so every command spells them the same way."""

import json
import math
import re
import sys

from tui.core.errors import UserError, mask, one_line
from tui.core.printable import printable
from tui.output import files


def add_aws_flags(p) -> None:
    p.add_argument("--region", help="AWS Region (default: from your AWS config)")
    p.add_argument("--profile", help="AWS profile from ~/.aws/config")
    p.add_argument("--endpoint-url", help="send every AWS call here (moto, LocalStack, the local Lambda)")


def add_target_flags(p) -> None:
    """Where the load goes and the logs come from: a function on AWS, else the local Lambda."""
    g = p.add_argument_group("target (default: the embedded local Lambda)")
    g.add_argument("--function", help="a Lambda function on AWS (its URL, else the Invoke API; its log group)")
    g.add_argument("--url", help="the function URL to load (with --function, for its logs)")
    g.add_argument("--invoke", action="store_true", help="load through the Invoke API, not the function URL")
    add_aws_flags(g)
    add_capacity_provider_flag(g)
    g.add_argument(
        "--profile-file", help="local Lambda profile: a TOML file or a shipped name (today, blog, lmi, snapstart)"
    )
    add_code_flags(g)
    add_request_flags(p)


def add_code_flags(g) -> None:
    """The local Lambda running a user's own function instead of the probe."""
    g.add_argument(
        "--handler",
        dest="code_handler",  # `handler` is the command's own (cli.py dispatches on it)
        metavar="FILE.py:FUNCTION",
        help="the local Lambda runs your handler (on the real awslambdaric) instead of the probe",
    )
    g.add_argument(
        "--layer",
        action="append",
        metavar="DIR_OR_ZIP",
        help="a layer for the local Lambda's function, at /opt as on Lambda (repeat for more, in order; "
        "extensions in its extensions/ start before the runtime); lambdascope-host is lambdascope's "
        "own extension, which names each environment's host",
    )


# Lambda's limit for a synchronous payload and a function URL's body (loadgen.targets says it too).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
MAX_HEADER_BYTES = 8192
# Headers the HTTP client or the signer owns: a user's value would be wrong or overwritten.
_OWNED_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "authorization", "x-amz-date"}
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def add_request_flags(p) -> None:
    """What each request carries, for a function that is not the probe."""
    g = p.add_argument_group("request (default: the probe's own request)")
    g.add_argument(
        "--payload",
        type=_payload_file,
        metavar="FILE",
        help="a JSON event (at most 6 MB) sent as is to the Invoke API (implies the Invoke API)",
    )
    g.add_argument("--method", type=_method, help="function URL: the HTTP method (default GET, POST with --body)")
    g.add_argument("--path", type=_path, help="function URL: the path and query to request (e.g. /orders?id=7)")
    g.add_argument(
        "--header",
        action="append",
        type=_header,
        metavar="K:V",
        help="function URL: a header to send (repeatable)",
    )
    g.add_argument("--body", type=_body_file, metavar="FILE", help="function URL: the request body (at most 6 MB)")


def _read_request_file(flag: str, path: str) -> bytes:
    from tui.output.capped import read_small

    return read_small(
        path, max_bytes=MAX_PAYLOAD_BYTES, fix=f"pass {flag} a readable file of at most 6 MB (Lambda's limit)"
    )


def _payload_file(path: str) -> bytes:
    data = _read_request_file("--payload", path)
    try:
        json.loads(data)
    except ValueError as exc:  # UnicodeDecodeError is one too
        raise UserError(
            f"--payload {path}: not JSON ({one_line(exc, limit=120)}); the Invoke API takes a JSON event"
        ) from None
    return data


def _body_file(path: str) -> bytes:
    return _read_request_file("--body", path)


def _method(text: str) -> str:
    from loadgen.targets import METHODS

    method = text.upper()
    if method not in METHODS:
        raise UserError(f"--method {text!r}: use one of {', '.join(METHODS)}")
    return method


def _path(text: str) -> str:
    if not text.startswith("/") or any(ch in text for ch in "\r\n ") or len(text) > MAX_HEADER_BYTES:
        raise UserError(f"--path {text!r}: write a path that starts with / and has no spaces (e.g. /orders?id=7)")
    return text


def _header(text: str) -> list[str]:
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not _TOKEN.fullmatch(name) or any(ch in value for ch in "\r\n\0") or len(text) > MAX_HEADER_BYTES:
        raise UserError(f"--header {text!r}: write NAME:VALUE, e.g. --header 'content-type:application/json'")
    if name.lower() in _OWNED_HEADERS or name.lower().startswith("x-lambdascope-"):
        raise UserError(f"--header {name}: lambdascope sets this header itself; leave it out")
    return [name, value]


def add_capacity_provider_flag(p, default: str = "from the function's configuration") -> None:
    p.add_argument(
        "--capacity-provider",
        metavar="NAME",
        help="Managed Instances: read this capacity provider's system log beside the function's "
        "(instance ids, AZs, launches); a NAME, or its log group if not the default "
        f"/aws/lambda/capacity-provider/NAME (default: {default})",
    )


def add_output_flags(p) -> None:
    p.add_argument("--format", choices=["table", "json", "csv"], default="table", help="output format")
    p.add_argument("--out", help="write to this file instead of standard output")


def write_output(text: str, out: str | None) -> None:
    # Error texts and log content in the table may quote a credential or carry escape sequences.
    text = printable(mask(text))
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        files.write_atomic(out, text)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}; choose another --out") from None


def parse_duration_flag(flag: str, text: str) -> float:
    """Seconds from a duration flag's text: every duration flag reads the same units
    (loadgen/duration.py: 250ms, 30s, 2m, 1h, 7d; a bare number is seconds) and fails with the
    same line."""
    from loadgen.duration import DurationError, parse_duration

    try:
        return parse_duration(text)
    except DurationError as exc:
        raise UserError(f"{flag} {text!r}: {exc}") from None


def duration_type(flag: str):
    """An argparse `type=` for a duration flag (its error is the one-line UserError above)."""

    def parse(text: str) -> float:
        return parse_duration_flag(flag, text)

    parse.__name__ = "duration"  # what argparse would name in its own messages
    return parse


def parse_since(text: str) -> float:
    return parse_duration_flag("--since", text or "")


def add_hold_flag(p) -> None:
    p.add_argument(
        "--hold",
        type=duration_type("--hold"),
        metavar="DURATION",
        help="each request holds its environment this long after the probe answers (250ms, 2s): "
        "concurrency without CPU, so --concurrency and the request rate are separate knobs "
        "(default: no hold)",
    )


def hold_ms(args) -> int:
    """The --hold flag in whole milliseconds; without one, the local Lambda profile's own
    `[load] hold_ms` (the `scale` profile holds 2 s), else 0."""
    from loadgen.plan import MAX_HOLD_MS

    seconds = getattr(args, "hold", None)
    if seconds is None:
        seconds = _profile_hold_s(args)
    if seconds and seconds * 1000 > MAX_HOLD_MS:
        raise UserError(f"--hold must be at most {MAX_HOLD_MS // 1000} s, Lambda's longest timeout (got {seconds:g} s)")
    return 0 if not seconds else round(seconds * 1000)


def _profile_hold_s(args) -> float | None:
    """The local profile's hold, for a run on the local Lambda (no --function, no --url)."""
    if getattr(args, "function", None) or getattr(args, "url", None) or not hasattr(args, "profile_file"):
        return None
    from probe.local.profile import load_profile

    try:
        prof = load_profile(args.profile_file) if args.profile_file else load_profile()
    except (ValueError, OSError):
        return None  # the target says what is wrong with the profile, in its own words
    return prof.hold_ms / 1000 if prof.hold_ms else None


def positive_int(name: str, value: int | None, *, minimum: int = 1) -> int | None:
    if value is not None and value < minimum:
        raise UserError(f"{name} must be at least {minimum} (got {value})")
    return value


def positive_float(name: str, value: float | None) -> float | None:
    if value is not None and not (value > 0 and math.isfinite(value)):  # NaN fails `> 0` too
        raise UserError(f"{name} must be greater than 0 and finite (got {value}): e.g. {name} 5")
    return value


def load_plan(concurrency: int | None, rate: float | None, **limits):
    """The starting load: open loop at `rate` requests/s if given, else closed loop at
    `concurrency`; `limits` are the Plan's other fields (requests, duration, max_in_flight)."""
    from loadgen.plan import Plan, PlanError

    mode = "open" if rate else "closed"
    try:
        return Plan(mode=mode, level=rate if rate else concurrency, **limits)
    except PlanError as exc:
        raise UserError(plan_error_text(exc, mode)) from None


# loadgen's Plan fields as this command line spells them (the one place that knows both).
_PLAN_FLAGS = {
    "requests": "--requests",
    "duration": "--duration",
    "max_in_flight": "--max-in-flight",
    "hold_ms": "--hold",
}


def plan_flag(field: str, mode: str) -> str:
    """The flag that sets a Plan field: `level` is --concurrency or --rate by mode."""
    if field == "level":
        return "--rate" if mode == "open" else "--concurrency"
    return _PLAN_FLAGS.get(field, field)


def plan_error_text(exc, mode: str) -> str:
    """A loadgen PlanError in the flags' words: 'level must be at least 1 (got 0)' becomes
    '--concurrency must be at least 1 (got 0)'. The one problem that names another field is a
    level above max_in_flight, so that name is mapped too."""
    problem = exc.problem.replace("max_in_flight", plan_flag("max_in_flight", mode))
    return f"{plan_flag(exc.field, mode)} {problem}"


# Below this many concurrent requests an unread account limit is not worth a line: no account
# allows fewer (AWS keeps at least 10 unreserved).
_QUIET_CONCURRENCY = 10


def bound_to_target(target, plan, ramp_plan=None):
    """`plan` bounded by the started target (a UserError, exit 2, when its hold, or a stage's,
    would pass the function's timeout), and the lines to say before the run: Lambda will
    throttle part of what the plan asks for, or its limits could not be read."""
    from tui.core.limits import peak_concurrency

    plan = target.bound(plan, ramp_plan)
    asked = peak_concurrency(plan, ramp_plan)
    lines = []
    warning = target.concurrency_warning(asked)
    if warning:
        lines.append(warning)
    elif target.limits is None and target.limits_note and asked > _QUIET_CONCURRENCY:
        lines.append(target.limits_note)
    return plan, lines
