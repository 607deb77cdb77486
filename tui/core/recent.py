"""A bounded memory of events already yielded, for sources that may see an event twice (a
reconnect, a backfill overlapping what the live stream delivered). Pure: no IO.
"""


class RecentKeys:
    """Which events were already yielded, for a recent window of event time, in bounded memory.

    Keys are hashes of (stream, timestamp, message): 64 bits make a false match negligible and
    keep no message text alive. Keys older than `window_ms` behind the newest timestamp are
    forgotten, and if more than `max_keys` remain the oldest half goes. `horizon` is the oldest
    timestamp still remembered: a backfill must not reach below it, or it would repeat events.
    """

    def __init__(self, window_ms: int, max_keys: int) -> None:
        self.window_ms = window_ms
        self.max_keys = max_keys
        self.horizon: int | None = None  # None: nothing forgotten yet
        self.newest: int | None = None
        self._keys: dict[int, int] = {}
        self._pruned_at: int | None = None  # the cutoff of the last prune

    def __len__(self) -> int:
        return len(self._keys)

    def too_old(self, timestamp: int) -> bool:
        return self.horizon is not None and timestamp < self.horizon

    def add(self, stream: str, timestamp: int, message: str) -> bool:
        """Remember an event; False if it was already remembered."""
        key = hash((stream, timestamp, message))
        if key in self._keys:
            return False
        self._keys[key] = timestamp
        if self.newest is None or timestamp > self.newest:
            self.newest = timestamp
        # Prune when over the cap, or when a quarter window has passed since the last prune:
        # O(n) work amortised over many adds.
        cutoff = self.newest - self.window_ms
        if self._pruned_at is None:
            self._pruned_at = cutoff
        if len(self._keys) > self.max_keys or cutoff - self._pruned_at > self.window_ms // 4:
            self._prune(cutoff)
        return True

    def _prune(self, cutoff: int) -> None:
        self._pruned_at = cutoff
        horizon = cutoff if self.horizon is None else max(cutoff, self.horizon)
        if len(self._keys) > self.max_keys:
            # Too many events inside the window: keep the newest half of the cap.
            stamps = sorted(self._keys.values())
            horizon = max(horizon, stamps[len(stamps) - self.max_keys // 2])
        self._keys = {k: ts for k, ts in self._keys.items() if ts >= horizon}
        self.horizon = horizon
