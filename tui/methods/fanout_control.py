"""Steering a running fan-out: the control object the monitor writes, and how fast each change
reached the loaders.

Why an object the loaders poll (the whole argument is in loadgen/loader/control.py): a running
InvokeWithResponseStream invocation cannot be sent anything by its caller, so a key press is
written to one S3 object (`{"run", "gen", "plan", "at", "stop"}`) and every loader reads it every
`every_s` and runs its part (split.share_of). On the local Lambda the object lives in its moto
server (S3), read by the loaders with the same signed GET as on AWS.

`ControlObject` is the IO (PutObject, latest value only: quick presses coalesce into the newest
plan, never a queue of stale ones). `Changes` is the bookkeeping: per generation when it was
asked (apply), written (PutObject returned) and when each loader applied it (its `level`
record's time moved onto this clock by its offset) and when we heard it; a change has reached
the fan-out when every loader still running has applied it.
"""

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field

from loadgen.plan import Plan
from tui.aws import clients

LOCAL_BUCKET = "lambdascope-control"
EVERY_S = 0.1  # how often each loader reads the object (loadgen/loader/control.py)


class ControlObject:
    """One run's control object: `await open()`, `ask(doc)` (never waits), `await close()`."""

    def __init__(self, endpoint: str | None, region: str, bucket: str, credentials: dict | None, profile=None):
        self.endpoint, self.region, self.bucket = endpoint, region, bucket
        self.credentials, self.profile = credentials, profile
        self.run_id = uuid.uuid4().hex[:12]
        self.key = f"fan-out/{self.run_id}.json"
        self.writes = 0
        self.error: str | None = None  # the last failed write, one line
        self._latest: dict | None = None
        self._wake = asyncio.Event()
        self._putting = False  # a PutObject in flight (flush waits for it)
        self._written: dict[int, float] = {}  # gen -> when PutObject returned
        self._task: asyncio.Task | None = None
        self._client = None
        self._client_cm = None

    @classmethod
    def for_local(cls, target) -> "ControlObject":
        """On the local Lambda: a bucket in its moto server, which the loaders (this machine) reach."""
        return cls(target.extra["moto_endpoint"], target.region, LOCAL_BUCKET, target.local_credentials)

    @property
    def url(self) -> str:
        """What the loaders GET (and sign exactly). On AWS virtual-hosted style, the one S3 keeps
        for every bucket; behind an endpoint (the local moto, an emulator) path-style."""
        if self.endpoint is None:
            return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{self.key}"
        return f"{self.endpoint.rstrip('/')}/{self.bucket}/{self.key}"

    def spec(self) -> dict:
        """The share's `control` (loadgen/loader/control.py)."""
        spec = {"url": self.url, "region": self.region, "run": self.run_id, "every_s": EVERY_S}
        if self.credentials:  # the local moto's fixed test keys, never a user's
            spec["keys"] = [self.credentials["aws_access_key_id"], self.credentials["aws_secret_access_key"]]
        return spec

    async def open(self, first: dict) -> None:
        session = clients.make_session(self.profile, self.region)
        self._client_cm = clients.client(
            session, "s3", endpoint_url=self.endpoint, credentials=self.credentials, region=self.region
        )
        self._client = await self._client_cm.__aenter__()
        if self.credentials:  # the local moto: the bucket is made here (on AWS, deploy makes it)
            try:
                await self._client.create_bucket(Bucket=self.bucket)
            except self._client.exceptions.BucketAlreadyOwnedByYou:
                pass
        await self._put(first)
        self._task = asyncio.create_task(self._writer())

    def ask(self, doc: dict) -> None:
        self._latest = doc
        self._wake.set()

    def written_at(self, gen: int) -> float | None:
        return self._written.get(gen)

    async def flush(self, timeout: float = 5.0) -> None:
        """Until the latest document asked is written (or `timeout`): taken by the writer is not
        written yet, so a PutObject in flight is waited for too."""
        try:
            async with asyncio.timeout(timeout):
                while self._latest is not None or self._wake.is_set() or self._putting:
                    await asyncio.sleep(0.01)
        except TimeoutError:
            pass

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            try:
                await self._client.delete_object(Bucket=self.bucket, Key=self.key)
            except Exception as exc:  # noqa: BLE001 - a leftover object is small; said, not raised
                self.error = f"could not delete {self.key}: {exc}"[:200]
            await self._client_cm.__aexit__(None, None, None)
            self._client = None

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            doc, self._latest = self._latest, None
            if doc is not None:
                self._putting = True
                try:
                    await self._put(doc)
                finally:
                    self._putting = False

    async def _put(self, doc: dict) -> None:
        try:
            body = json.dumps(doc, separators=(",", ":")).encode()
            await self._client.put_object(Bucket=self.bucket, Key=self.key, Body=body)
            self.writes += 1
            self._written[int(doc.get("gen") or 0)] = time.time()
        except Exception as exc:  # noqa: BLE001 - the loaders keep their level; the screen says why
            self.error = f"{type(exc).__name__}: {exc}"[:200]


@dataclass
class Change:
    gen: int
    plan: Plan
    asked_at: float
    applied: dict = field(default_factory=dict)  # loader index -> applied at (this clock)
    heard: dict = field(default_factory=dict)  # loader index -> its record read here (this clock)

    def reached(self, alive: list[int]) -> bool:
        return bool(alive) and all(i in self.applied for i in alive)

    def reach_s(self, alive: list[int]) -> float | None:
        """From the key press until the last running loader applied it (None: not yet)."""
        if not self.reached(alive):
            return None
        return max(self.applied[i] for i in alive) - self.asked_at

    def heard_s(self, alive: list[int]) -> float | None:
        """From the key press until its last acknowledgement was read here: our clock only."""
        if not self.reached(alive):
            return None
        return max(self.heard[i] for i in alive) - self.asked_at


class Changes:
    """Generations of the level: `ask(plan, at)` -> its gen; `applied(...)`; `line(alive)`."""

    def __init__(self, first: Plan) -> None:
        self.gen = 0
        self.history: dict[int, Change] = {0: Change(0, first, 0.0)}
        self.last: Change | None = None  # the last change asked by a key (gen > 0)

    def ask(self, plan: Plan, at: float) -> int:
        self.gen += 1
        change = Change(self.gen, plan, at)
        self.history[self.gen] = change
        # Older changes no loader will ever acknowledge now (it reads the latest only): drop them.
        for gen in [g for g in self.history if g < self.gen - 16]:
            del self.history[gen]
        self.last = change
        return self.gen

    def applied(self, index: int, gen: int, at: float, heard: float) -> None:
        change = self.history.get(gen)
        if change is not None:
            change.applied.setdefault(index, at)
            change.heard.setdefault(index, heard)

    def running(self, gens: dict[int, int]) -> Plan:
        """The whole plan the running loaders run: the newest generation every one of them has
        applied (`gens`: loader index -> its last applied gen)."""
        if not gens:
            return self.history[max(self.history)].plan
        oldest = min(gens.values())
        at = max((g for g in self.history if g <= oldest), default=min(self.history))
        return self.history[at].plan

    def line(self, alive: list[int]) -> str | None:
        """'level change to closed loop: 5 concurrent reached 4 loaders in 0.31 s (heard back in
        0.33 s)', 'reaching 3 of 4 loaders…', or None before any key."""
        c = self.last
        if c is None:
            return None
        reach = c.reach_s(alive)
        if reach is None:
            got = sum(1 for i in alive if i in c.applied)
            return f"level change to {c.plan.describe()} reaching {got} of {len(alive)} loaders…"
        return (
            f"level change to {c.plan.describe()} reached {len(alive)} loaders in {max(0.0, reach):.2f} s "
            f"(heard back in {c.heard_s(alive):.2f} s)"
        )
