"""`python -m probe.local.moto_main [--switch-interval S] -H HOST -p PORT`: moto's server, with a lock on its Kinesis
shards. The local Lambda's and the tests' moto process (probe/local/moto_server.py spawns it).

Why: moto's server is threaded (werkzeug, `threaded=True`), and a Kinesis shard's `put_record`
("not safe for concurrency", its own comment) reads the shard's largest sequence number and
then stores the record under that number + 1. Two PutLogEvents at once on a subscribed group
(the local shipper keeps up to 64 in flight, one per log stream) can both read the same number:
the second record overwrites the first, and a delivery moto answered with 200 is gone from the
stream. Measured: 32 threads of PutLogEvents, 2,000 calls, 2 records lost in one run of three
(the 99.9% that bench_channels showed for the Kinesis channel), and in every run with the GIL's
switch interval at 1 µs (tests/integration/test_kinesis_delivery.py). AWS gives each record its
own sequence number; so does moto once the read and the store are one step.

The lock covers what reads or changes a shard's records (put, get, the AT_TIMESTAMP lookup):
a GetRecords that iterates the records while a put adds one would otherwise fail with
"mutated during iteration". Everything else is moto unchanged.

`--switch-interval S` sets the interpreter's thread switch interval (default 5 ms): a short one
makes a thread race show within seconds, which is how the test above fails without the lock.
"""

from __future__ import annotations

import sys
import threading

_LOCK = threading.RLock()
_GUARDED = ("put_record", "get_records", "get_sequence_number_at")


def _locked(method):
    def guarded(*args, **kwargs):
        with _LOCK:
            return method(*args, **kwargs)

    guarded.__name__ = method.__name__
    guarded.__doc__ = method.__doc__
    guarded.__wrapped__ = method  # type: ignore[attr-defined]
    return guarded


def install() -> None:
    """Make moto's Kinesis shard record store safe under its threaded server (idempotent)."""
    from moto.kinesis.models import Shard

    for name in _GUARDED:
        method = getattr(Shard, name)
        if not hasattr(method, "__wrapped__"):
            setattr(Shard, name, _locked(method))


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--switch-interval"]:
        sys.setswitchinterval(float(args[1]))
        del args[:2]
    install()
    from moto.server import main as moto_main

    moto_main(args)


if __name__ == "__main__":
    main()
