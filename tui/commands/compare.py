"""`lambdascope compare A B [C…]`: runs side by side, from snapshot folders, snapshot files or
recordings.

Each run is read the same way: a folder holds `snapshot.json` (what `s`, `run --export`,
`analyze --export` and `replay --export` write); a `.json` file is a snapshot document itself
(`run --format json --out F`); a recording (`watch --record`) is played into the model, as
`replay --export` does, and read at its end. The table marks every fact the runs disagree on; `--export DIR`
writes the same as `compare.json` and a figure of the runs' timelines on one time axis.
"""

import json
import os

from tui.commands.options import write_output
from tui.core import caps, compare
from tui.core.errors import UserError

_FIX = "give a snapshot folder (from `s` or --export) or a snapshot .json file"


def register(sub) -> None:
    p = sub.add_parser("compare", help="runs side by side (snapshots or recordings), differences marked")
    p.add_argument("runs", nargs="+", metavar="RUN", help="a snapshot folder, a snapshot .json file or a recording")
    p.add_argument("--format", choices=["table", "json"], default="table", help="output format")
    p.add_argument("--out", help="write to this file instead of standard output")
    p.add_argument("--export", metavar="DIR", help="also write compare.json and the figure here")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    if len(args.runs) < 2:
        raise UserError("compare needs at least two runs (snapshot folders or .json files)")
    docs = [load_run(path) for path in args.runs]
    names = run_names(args.runs)
    rows = compare.compare(docs)
    text = (
        compare.to_table(names, rows)
        if args.format == "table"
        else json.dumps(compare.to_dict(names, rows), indent=2) + "\n"
    )
    if args.export:
        _export(args.export, names, docs, rows)
    write_output(text, args.out)
    return 0


def load_run(path: str) -> dict:
    """One run's snapshot document, or a one-line error naming what to give instead."""
    file = os.path.join(path, "snapshot.json") if os.path.isdir(path) else path
    if os.path.isfile(path) and _is_recording(path):
        from tui.commands.replay import replay_bundle

        return replay_bundle(path).doc
    if os.path.isdir(path) and not os.path.exists(file):
        raise UserError(
            f"{path} has no snapshot.json: give a folder written by `s` or --export, or a snapshot .json file"
        )
    from tui.output.capped import read_small

    raw = read_small(file, max_bytes=caps.SNAPSHOT_FILE, fix=_FIX)
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise UserError(f"{file} is not a snapshot (not JSON): give snapshot.json or its folder") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("totals"), dict):
        raise UserError(f"{file} is not a snapshot document (no totals): give snapshot.json or its folder")
    return doc


def _is_recording(path: str) -> bool:
    from tui.commands.plan_flag import is_recording

    try:
        return is_recording(path)
    except OSError:
        return False


def run_names(paths: list[str]) -> list[str]:
    """Short, distinct column names: the folder or file name, numbered where two are alike."""
    names = []
    for p in paths:
        base = os.path.basename(os.path.normpath(p)) or p
        if base == "snapshot.json":
            base = os.path.basename(os.path.dirname(os.path.abspath(p))) or base
        names.append(base)
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if names.count(n) > 1:
            seen[n] = seen.get(n, 0) + 1
            n = f"{n}#{seen[n]}"
        out.append(n)
    return out


def _export(folder: str, names: list[str], docs: list[dict], rows) -> None:
    from tui.output.compare_figure import draw
    from tui.output.files import write_atomic

    try:
        os.makedirs(folder, exist_ok=True)
        write_atomic(os.path.join(folder, "compare.json"), json.dumps(compare.to_dict(names, rows), indent=2) + "\n")
        for name, data in draw(names, docs).items():
            write_atomic(os.path.join(folder, name), data)
    except OSError as exc:
        raise UserError(f"cannot write {folder}: {exc.strerror or exc}; choose another --export") from None
