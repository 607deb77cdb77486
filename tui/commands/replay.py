"""`lambdascope replay FILE`: a session recorded with `watch --record` back in the monitor, or,
with `--export DIR`, straight into an export folder with no screen."""

import sys

from tui.commands.export_flag import add_export_flag, write_export_folder
from tui.commands.options import positive_float


def register(sub) -> None:
    p = sub.add_parser("replay", help="play a recorded session (watch --record FILE) back in the monitor")
    p.add_argument("file", help="the recording")
    p.add_argument(
        "--speed", type=float, default=1.0, help="times faster than recorded (default 1; 0 shows it all at once)"
    )
    p.add_argument(
        "--snapshot-dir", default="lambdascope-snapshots", metavar="DIR", help="where the s key writes its folders"
    )
    p.add_argument("--refresh-hz", type=float, default=5.0, help="screen redraws per second (default 5)")
    add_export_flag(p)
    p.set_defaults(handler=handle)


async def handle(args) -> int:
    if args.export:
        write_export_folder(args.export, replay_bundle(args.file))
        return 0
    from tui.output.recording import open_replay

    if args.speed != 0:
        positive_float("--speed", args.speed)
    positive_float("--refresh-hz", args.refresh_hz)
    # Read (and refused, if it must be) before Textual is imported: a bad file is told at once.
    r = open_replay(args.file, None if args.speed == 0 else args.speed)
    from tui.screen.app import MonitorApp

    app = MonitorApp(
        target=r.target,
        load=r.load,
        load_state=r.load_state,
        sources=r.sources,
        clock=r.clock,
        snapshot_dir=args.snapshot_dir,
        refresh_hz=args.refresh_hz,
        replay=r,
    )
    try:
        await app.run_async()
    finally:
        await app.shutdown()
    if app.exit_summary():
        print(app.exit_summary(), file=sys.stderr)
    return app.return_code or 0


def replay_bundle(path: str):
    """The whole recording through the fleet model, batch by batch at its recorded time, as the
    monitor would have applied it, then the export bundle at the recording's end."""
    from tui.core import snapshot as export
    from tui.core.analysis import feed
    from tui.core.fleet import Fleet
    from tui.output.recording import Recording

    rec = Recording.load(path)
    fleet = Fleet()
    stats = None
    for entry in rec.entries:
        if "log" in entry:
            feed(fleet, entry["log"], entry["t"])
        elif "outcomes" in entry:
            fleet.apply_outcomes(entry["outcomes"], entry["t"])
            stats = entry.get("stats") or stats
    target = rec.header.get("target") or {}
    source = {**target, "kind": "replay", "recording": path, "recorded_kind": target.get("kind")}
    load = {}
    plan = getattr(stats, "plan", None)
    if plan is not None:
        load = plan if isinstance(plan, dict) else plan.to_dict()  # what the generator ran last
    if rec.plan:
        load = {**load, "plan": rec.plan}
    return export.build(fleet, now=rec.end, source=source, load=load)
