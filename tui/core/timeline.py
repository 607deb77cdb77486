"""The whole run's timeline: invocations per time bucket, per container and fleet-wide.

Pure. One `Clock` per fleet fixes the bucketing for every timeline at once. Buckets are
numbered absolutely (bucket `a` covers epoch ticks [a·w, (a+1)·w), a tick being the base width,
0.1 s, and w = 2**shift ticks), so every lane lines up with every other and with round times.
Bucket 0 of the run is `clock.origin`. When the run outgrows `clock.size` buckets the width
doubles and every timeline merges its bucket pairs (`Timeline.halve`), so the whole run always
fits: memory per timeline stays at most `size` counts in an `array`, whatever the run's length.
"""

from array import array


class Clock:
    """The bucketing shared by a fleet's timelines. `origin`/`latest` are absolute bucket numbers
    of the earliest (less slack) and latest times seen, None until the first."""

    __slots__ = ("base_ms", "shift", "size", "origin", "latest")

    def __init__(self, base_s: float = 0.1, size: int = 4096):
        self.base_ms = max(1, int(round(base_s * 1000)))
        self.shift = 0
        self.size = size
        self.origin: int | None = None
        self.latest = 0

    @property
    def bucket_s(self) -> float:
        return (self.base_ms << self.shift) / 1000.0

    def absolute_ms(self, ms: int) -> int:
        return (ms // self.base_ms) >> self.shift

    def absolute(self, t: float) -> int:
        """The absolute bucket of epoch seconds `t` (rounded to the millisecond first, so a time
        read from a log line and the same time as a float land in the same bucket)."""
        return (int(t * 1000.0 + 0.5) // self.base_ms) >> self.shift


class Timeline:
    """Counts per bucket of one container (or the fleet), from its first bucket on."""

    __slots__ = ("_clock", "_start", "_counts", "_total")

    def __init__(self, clock: Clock):
        self._clock = clock
        self._start = 0  # absolute bucket of _counts[0]
        self._counts = array("I")
        self._total = 0

    # ---- writing (the fleet) ---------------------------------------------------------------
    def add_at(self, a: int, n: int = 1) -> None:
        """Add `n` (may be negative, to move an invocation) to absolute bucket `a`."""
        counts = self._counts
        i = a - self._start
        if 0 <= i < len(counts) and n > 0:  # the common case: a bucket the lane already has
            counts[i] += n
            self._total += n
            return
        if not counts:
            self._start, i = a, 0
            counts.append(0)
        elif i < 0:  # an earlier time than this lane held (out-of-order delivery)
            grown = array("I", bytes(4 * -i))
            grown.extend(counts)
            self._counts = counts = grown
            self._start, i = a, 0
        elif i >= len(counts):
            counts.frombytes(bytes(4 * (i - len(counts) + 1)))
        value = counts[i] + n
        counts[i] = value if value > 0 else 0
        self._total += n

    def add(self, t: float, n: int = 1) -> None:
        self.add_at(self._clock.absolute(t), n)

    def halve(self) -> None:
        """Merge bucket pairs: the clock's width has just doubled."""
        counts = self._counts
        if not counts:
            self._start >>= 1
            return
        if self._start & 1:  # the first bucket is the odd half of its pair
            counts = array("I", [0]) + counts
            start = self._start - 1
        else:
            start = self._start
        if len(counts) & 1:
            counts.append(0)
        merged = array("I", [counts[i] + counts[i + 1] for i in range(0, len(counts), 2)])
        self._counts, self._start = merged, start >> 1

    # ---- reading (widgets, findings, export) -----------------------------------------------
    def counts(self, first: int, n: int, per: int = 1) -> list[int]:
        """n columns, each the sum of `per` consecutive buckets, the first starting at run
        bucket `first` (0 = the clock's origin)."""
        origin = self._clock.origin
        if origin is None or n <= 0:
            return [0] * max(0, n)
        return self._columns(origin + first, n, max(1, per))

    def total(self) -> int:
        return self._total

    def window(self, last_bucket: int, n: int, column_s: float | None = None) -> list[int]:
        """Counts for the n absolute buckets ending at `last_bucket` (inclusive), oldest first:
        the pre-whole-run API, for widgets not yet moved to `counts` (absolute bucket =
        int(t // fleet.bucket_s)). With `column_s`, the columns are that wide instead
        (column = int(t // column_s)), each bucket counted in the column where it starts."""
        if column_s is None:
            return self._columns(last_bucket - n + 1, n, 1)
        clock = self._clock
        col_ticks = max(1, int(round(column_s * 1000)) // clock.base_ms)
        k = clock.shift
        c0 = last_bucket - n + 1
        out = [0] * n
        counts, start = self._counts, self._start
        a_lo = max(start, (c0 * col_ticks) >> k)
        a_hi = min(start + len(counts), (((last_bucket + 1) * col_ticks - 1) >> k) + 1)
        for a in range(a_lo, a_hi):
            v = counts[a - start]
            if v:
                j = ((a << k) // col_ticks) - c0
                if 0 <= j < n:
                    out[j] += v
        return out

    @property
    def width(self) -> float:
        return self._clock.bucket_s

    def bucket(self, t: float) -> int:
        """The absolute bucket of `t` (see `window`)."""
        return self._clock.absolute(t)

    def _columns(self, a0: int, n: int, per: int) -> list[int]:
        counts, start = self._counts, self._start
        size = len(counts)
        lo = a0 - start
        if per == 1:
            if lo >= size or lo + n <= 0:
                return [0] * n
            head = [0] * (-lo) if lo < 0 else []
            body = counts[max(0, lo) : min(size, lo + n)].tolist()
            return head + body + [0] * (n - len(head) - len(body))
        out = []
        for j in range(n):
            a = lo + j * per
            b = a + per
            out.append(0 if b <= 0 or a >= size else sum(counts[max(0, a) : min(size, b)]))
        return out
