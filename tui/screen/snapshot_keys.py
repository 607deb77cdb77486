"""`s`: a snapshot folder written off the event loop, and `q` waiting for one being written.

A mixin of `MonitorApp` (tui/screen/app.py)."""

import asyncio

from tui.core import snapshot as export
from tui.output import folder as export_folder
from tui.screen.messages import SnapshotDone, SnapshotResult

SNAPSHOT_GRACE_S = 60.0  # q waits this long at most for a snapshot being written


class SnapshotKeys:
    def action_snapshot(self) -> None:
        now = self.clock()
        self.refresh_view()
        load = dict(self.load_state.as_dict())
        if self.load is not None:
            load["achieved"] = self.load_state.figures(now)
        if self.steering is not None:
            load["plan"] = self.steering.to_dict(now)  # `--plan` on this snapshot repeats the run
        source = dict(self.target.as_dict(), log_sources=[s.status.name for s in self.sources])
        sort = self.host_key if self.sort_by == "host" else self.sort_by
        bundle = export.build(self.fleet, now=now, source=source, load=load, host_key=self.host_key, sort=sort)
        files = {"screen.svg": self.export_screenshot(title=f"lambdascope {export.iso(now)}")}
        self.status.say("writing snapshot…")
        self.run_worker(
            self._write_snapshot(now, bundle, files), name="snapshot", group="snapshot", exit_on_error=False
        )

    async def _write_snapshot(self, now: float, bundle, files: dict) -> None:
        try:
            folder, names = await asyncio.to_thread(export_folder.write_snapshot, self.snapshot_dir, now, bundle, files)
            result = SnapshotResult(folder, names)
        except OSError as exc:
            result = SnapshotResult(None, [], f"{exc.strerror or exc} ({exc.filename or self.snapshot_dir})")
        self.post_message(SnapshotDone(result))

    def on_snapshot_done(self, message: SnapshotDone) -> None:
        r = message.result
        self.last_snapshot = r
        if r.error:
            self.status.say(f"snapshot NOT written: {r.error}", error=True)
        else:
            self.snapshots.append(r.path)
            self.status.say(f"snapshot written to {r.path}/ ({', '.join(r.files)})")

    async def finish_snapshots(self, timeout: float = SNAPSHOT_GRACE_S) -> None:
        """A snapshot being written (its figures take seconds on a busy machine) is finished
        before the app goes, so `q` right after `s` still leaves a whole folder."""
        pending = [w for w in self.workers if w.group == "snapshot" and not w.is_finished]
        if not pending:
            return
        self.status.say("finishing the snapshot before quitting…")
        try:
            await asyncio.wait_for(asyncio.gather(*(w.wait() for w in pending), return_exceptions=True), timeout)
        except TimeoutError:
            self.log.error("snapshot not finished before quitting")
