"""Invocations per time bucket for one container, in a fixed-size ring (flat memory).

Pure. Bucket indexes are absolute (epoch seconds / width), so every container's lane lines up
with every other's without a shared origin.
"""

from array import array


class Timeline:
    __slots__ = ("width", "size", "_counts", "_ids")

    def __init__(self, size: int = 600, width: float = 1.0):
        self.width = width
        self.size = size
        self._counts = array("I", bytes(4 * size))
        self._ids = array("q", [-1]) * size

    def bucket(self, t: float) -> int:
        return int(t // self.width)

    def add(self, t: float, n: int = 1) -> None:
        idx = int(t // self.width)
        slot = idx % self.size
        held = self._ids[slot]
        if held != idx:
            if held > idx:
                return  # older than the ring reaches: the lane has scrolled past it
            self._ids[slot] = idx
            self._counts[slot] = 0
        self._counts[slot] += n

    def window(self, last_bucket: int, n: int) -> list[int]:
        """Counts for the n buckets ending at `last_bucket` (inclusive), oldest first."""
        out = []
        ids, counts, size = self._ids, self._counts, self.size
        for idx in range(last_bucket - n + 1, last_bucket + 1):
            slot = idx % size
            out.append(counts[slot] if ids[slot] == idx else 0)
        return out

    def total(self) -> int:
        return sum(self._counts)
