"""The one retry backoff of the log sources: exponential, capped, jittered.

Jitter ("full jitter" halved: each delay is 50-100 % of the step) so that several readers of
one account, or many lambdascope users, do not retry in step. Pure: random only.
"""

import random


class Backoff:
    """Delays of `initial`, 2x, 4x ... up to `maximum`, each jittered; `reset()` after a success."""

    def __init__(self, initial: float, maximum: float, *, uniform=random.uniform):
        self.initial, self.maximum = initial, maximum
        self._step = initial
        self._uniform = uniform

    def next(self) -> float:
        """The delay before the next retry (and double the one after)."""
        delay = self._step * self._uniform(0.5, 1.0)
        self._step = min(self._step * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self._step = self.initial
