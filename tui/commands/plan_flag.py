"""`--plan`, the same for `run` and `watch`: a ramp plan from inline stages, a TOML file, or the
`load.plan` of a snapshot (so a run is repeated exactly, keyboard changes included)."""

import json
import os
import tomllib

from tui.core import caps
from tui.core.errors import UserError


def add_plan_flag(group) -> None:
    group.add_argument(
        "--plan",
        metavar="PLAN",
        help="stages, e.g. '10c@30s, 50c@30s hold 1s, 0@2m' (c: concurrent, r: requests/s, "
        "A..B: a ramp, hold: the stage's --hold), a .toml file of [[stage]] tables, or a "
        "snapshot .json or recording to repeat",
    )


def load_ramp(text: str):
    """The RampPlan `--plan` names, or a one-line error naming the fix."""
    from loadgen import ramp

    try:
        if os.path.isfile(text) and is_recording(text):
            return _from_recording(text)
        if text.endswith(".toml") or text.endswith(".json") or os.path.isdir(text):
            return _from_file(text)
        return ramp.parse(text)
    except ramp.RampError as exc:
        raise UserError(f"--plan: {exc}") from None


def is_recording(path: str) -> bool:
    """A `watch --record` file (gzip, or the plain JSON lines of format 1)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return False  # not readable: whoever reads it next says why
    return head[:2] == b"\x1f\x8b" or head.lstrip().startswith(b'{"lambdascope_recording"')


def _from_recording(path: str):
    from loadgen import ramp
    from tui.output.recording import Recording

    rec = Recording.load(path)
    if rec.plan is None:
        raise UserError(f"--plan {path}: this recording ran no plan; give stages instead, e.g. '10c@30s'")
    return ramp.from_saved(rec.plan)


def _from_file(path: str):
    from loadgen import ramp

    file = os.path.join(path, "snapshot.json") if os.path.isdir(path) else path
    from tui.output.capped import read_small

    cap = caps.PLAN_FILE if file.endswith(".toml") else caps.SNAPSHOT_FILE
    raw = read_small(file, max_bytes=cap, fix="check --plan (stages, a .toml plan or a snapshot)")
    if file.endswith(".toml"):
        try:
            return ramp.from_toml(tomllib.loads(raw.decode("utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"--plan {path} is not valid TOML: {exc}") from None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise UserError(f"--plan {path} is not JSON: give a snapshot.json written with a plan") from None
    load = doc.get("load") if isinstance(doc, dict) else None
    saved = load.get("plan") if isinstance(load, dict) else None
    if not isinstance(saved, dict):
        raise UserError(
            f"--plan {path}: this snapshot ran no plan (load.plan is missing); give stages instead, e.g. '10c@30s'"
        )
    return ramp.from_saved(saved)


def base_plan(ramp_plan, max_in_flight: int = 1000, hold_ms: int = 0):
    """The generator's starting plan for a ramp: its first load (paused if it starts quiet), with
    room for the largest concurrency any stage asks for; `hold_ms` (--hold) is the hold of every
    stage that sets none."""
    from loadgen.plan import Plan
    from loadgen.ramp import PAUSE

    loads = [s for s in ramp_plan.stages if s.mode != PAUSE]
    first = loads[0]
    biggest = max([max(s.start, s.end) for s in loads if s.mode == "closed"], default=1)
    return Plan(
        mode=first.mode,
        level=first.start,
        max_in_flight=max(max_in_flight, int(biggest)),
        paused=ramp_plan.stages[0].mode == PAUSE,
        hold_ms=hold_ms if first.hold_ms is None else first.hold_ms,
    )
