"""The three log channels side by side at the same load (issue 17): `lambdascope run --logs
CHANNEL --concurrency 1000 --hold 2s --duration 20s` on the embedded local Lambda (default
profile), once per channel, in one bench run. For each: the share of log events the channel
delivered itself (Live Tail's FilterLogEvents backfill and Kinesis's sweep behind it are what
the channel did not; polling is FilterLogEvents throughout), twice: by the end of the load and
after the settle (the run waits until the logs account for every invocation, then for the channel
to hand over what it still holds, then sweeps once), both out of every event the run ended with;
how many updates Live Tail sampled,
and each invocation's response → log confirmation lag, p50 and p99 (the run's own figures,
`totals.log_lag_p50_s` / `p99`). Nothing is asserted (run: make bench, or
`pytest tests/bench/bench_channels.py -m bench -s`).
"""

import json
import os
import subprocess
import sys

import pytest

from tests.bench.budget import report as budget_row

pytestmark = pytest.mark.bench

LOAD = ("--concurrency", "1000", "--hold", "2s", "--duration", "20s")
CHANNELS = ("poll", "livetail", "kinesis")
# What each channel leaves to a FilterLogEvents pass behind it: the events it did not deliver.
MADE_UP_BY = {"poll": None, "livetail": "backfilled", "kinesis": "swept"}


def _run(tmp_path, channel: str) -> tuple[dict | None, str]:
    out_file = tmp_path / f"{channel}.json"
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "run", "--logs", channel, *LOAD, "--format", "json", "--out", str(out_file)],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    doc = json.loads(out_file.read_text()) if out_file.exists() else None
    return doc, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"


def _share(doc: dict, channel: str, *, at_load_end: bool = False) -> float | None:
    """Events the channel delivered itself (by the end of the load, or in all), out of all the
    events the run read."""
    run = doc["run"]
    events = run.get("log_events") or 0
    if not events:
        return None
    counts = (run.get("log_events_at_load_end") or {}) if at_load_end else (run.get("log_source_counts") or {})
    if at_load_end and "events" not in counts:
        return None
    delivered = counts["events"] if at_load_end else events
    key = MADE_UP_BY[channel]
    behind = counts.get(key, 0) if key else 0
    return (delivered - behind) / events


def test_three_channels_at_the_same_load(tmp_path):
    rows = {}
    for channel in CHANNELS:
        rows[channel] = _run(tmp_path, channel)
    for channel, (doc, last) in rows.items():
        print(f"\n[{channel}] {last}")
        if doc is None:
            budget_row(
                f"channel {channel}: events it delivered itself", None, why_not=f"the run wrote no document ({last})"
            )
            continue
        t, run = doc["totals"], doc["run"]
        counts = run.get("log_source_counts") or {}
        print(
            f"[{channel}] {t['requests']:,} requests, {t['invocations']:,} invocations, {t['serving']} containers; "
            f"{run.get('log_events', 0):,} log events in {run['log_requests']:,} log requests; "
            f"sampled updates {counts.get('sampled_updates', 0)}; missing {run['missing_from_logs']}, "
            f"unaccounted {run['unaccounted']}"
            + (
                f"; swept {counts.get('swept', 0)}, duplicates {counts.get('duplicates', 0)}, "
                f"sweep passes {counts.get('sweep_passes', 0)} ({counts.get('sweep_deferred', 0)} left fresh events "
                f"to the stream)"
                if channel == "kinesis"
                else ""
            )
        )
        budget_row(
            f"channel {channel}: share of events it delivered itself by the end of the load",
            _share(doc, channel, at_load_end=True),
            fmt="{:.1%}",
            why_not="the run did not say what it had read at the end of the load",
        )
        budget_row(
            f"channel {channel}: share of events it delivered itself after the settle",
            _share(doc, channel),
            fmt="{:.1%}",
            at_least=1.0 if channel == "kinesis" else None,
            why_not="the channel delivered no events",
        )
        budget_row(f"channel {channel}: confirmation lag p50", t.get("log_lag_p50_s"), unit=" s")
        budget_row(f"channel {channel}: confirmation lag p99", t.get("log_lag_p99_s"), unit=" s")
