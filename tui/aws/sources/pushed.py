"""What the push channels (Live Tail, Kinesis) share: one task reads the channel and fills a
bounded queue of batches; `batches()` hands them to the consumer; `close()` stops the task and
wakes a consumer parked on the queue. The channel's end, or the error that ended it, comes last
in the queue as a `Stop`, so the consumer sees it in order, after every batch before it.
"""

import asyncio
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from tui.core.events import LogEvent


class Stop:
    """End of batches(): with the error that ended the source, if any."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class PushedSource:
    """A base for a source whose reader runs as one task (`_read()`) and puts batches, then a
    Stop, on `self._queue`. Bounded: a reader that gets ahead of the consumer waits."""

    def __init__(self, max_queued_batches: int) -> None:
        self._queue: asyncio.Queue[list[LogEvent] | Stop] = asyncio.Queue(max_queued_batches)
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def _read(self) -> Coroutine[Any, Any, None]:
        raise NotImplementedError

    def _task_name(self) -> str:
        return type(self).__name__

    def _before_reading(self) -> None:
        """Called once, just before the reader's task starts."""

    async def batches(self) -> AsyncIterator[list[LogEvent]]:
        if self._closed:
            return
        if self._task is not None:
            raise RuntimeError(f"{type(self).__name__}.batches() may be iterated once")
        self._before_reading()
        self._task = asyncio.create_task(self._read(), name=self._task_name())
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, Stop):
                    if item.error is not None:
                        raise item.error
                    return
                yield item
        finally:
            # A consumer that stops iterating should not leave the reader running; close()
            # still awaits the task.
            if not self._task.done():
                self._task.cancel()

    async def close(self) -> None:
        self._closed = True
        task = self._task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        # Wake a consumer parked in batches(): drop what it will not read, then the end marker.
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(Stop(None))
