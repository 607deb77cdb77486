"""Outcomes into bounded batches for one consumer.

Requests add outcomes one at a time (a list append: nothing else on the hot path); a batch goes
to the consumer every tick or when it is full. Bounded twice: `max_batch` outcomes per batch
and `max_queued` batches waiting. When the consumer lags that far, `flush` waits, so the
requests that fill batches wait too: the load slows (and an open loop's lateness shows it)
instead of memory growing or outcomes being dropped.
"""

import asyncio
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from loadgen.outcome import Outcome
    from loadgen.stats import Stats


class Batcher:
    def __init__(self, stats: "Stats", max_batch: int = 1000, max_queued: int = 50) -> None:
        self.stats = stats  # fed each batch as it is handed over
        self.max_batch = max_batch
        self._queue: asyncio.Queue[list[Outcome] | None] = asyncio.Queue(max_queued)
        self._pending: list[Outcome] = []
        self._lock = asyncio.Lock()

    def add(self, outcome: "Outcome") -> bool:
        """Keep an outcome; True when the batch is full and the caller should `flush`."""
        self._pending.append(outcome)
        return len(self._pending) >= self.max_batch

    async def flush(self, empty_ok: bool = False) -> None:
        # One flush at a time: outcomes added meanwhile go to the next batch, so at most one
        # batch (plus one outcome per waiting request) is held back while the queue is full.
        async with self._lock:
            if not self._pending and not empty_ok:
                return
            batch, self._pending = self._pending, []
            try:
                await self._queue.put(batch)
            except asyncio.CancelledError:
                self._pending[:0] = batch  # not delivered: keep it for the final flush
                raise
            self.stats.add(batch)

    async def tick(self, interval: float) -> NoReturn:
        """Flush every `interval` seconds; an empty batch too when the consumer has nothing
        queued, so it still gets its tick (to refresh a screen while nothing completes)."""
        while True:
            await asyncio.sleep(interval)
            await self.flush(empty_ok=self._queue.empty())

    async def close(self) -> None:
        """The last batch, then the end marker (None) for the consumer."""
        await self.flush()
        await self._queue.put(None)

    async def get(self) -> "list[Outcome] | None":
        """The next batch, or None after close()."""
        return await self._queue.get()
