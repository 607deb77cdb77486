"""The loader's control channel: the level it runs, read from one small object the monitor writes.

Why a polled object: a running InvokeWithResponseStream invocation takes no input from its
caller (the request body is sent once; the stream only goes back), and the monitor, on a laptop
behind NAT, cannot be reached by the loaders. So each loader polls one S3 object (a conditional
GET with If-None-Match: an unchanged object is a 304 with no body) and runs its part of the
plan written there. S3 over SSM or DynamoDB: PutObject and GetObject are strongly consistent
(since December 2020), S3 takes thousands of GETs a second per prefix where SSM's
GetParameter has a 40 TPS account default (PutParameter a few TPS: quick key presses would be
throttled), and it needs no table. Re-planning by generations (new invocations at each change)
would cost a cold start per change and, on AWS, could not stop the old invocations at all:
only this channel can. On the local Lambda the same code reads the same API from its moto
server, so a change takes the same path as on AWS.

The document (JSON): {"run", "gen", "plan", "at", "stop"}: `plan` is the whole plan
(Plan.to_dict), each loader takes its part with split.share_of (the parts add up to the plan;
a loader left without a worker pauses); `gen` numbers the changes, so a loader applies each at
most once and says which it runs; `stop` ends every loader's share (the monitor quit). What it
applied is said in the stream, a `level` record (record.py), so the monitor can tell when a
change reached every loader.

`decide` is pure; `ControlPoller` is the IO.
"""

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loadgen.plan import Plan
from loadgen.split import share_of

if TYPE_CHECKING:
    import aiohttp

EVERY_S = 0.1  # a poll per loader every 100 ms: ~50 ms of the reach on average
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()  # S3 signs its payload's hash, here none


@dataclass(frozen=True)
class Decision:
    gen: int
    part: Plan | None  # this loader's part to run now (None: stop)
    whole: Plan | None


def decide(doc: Any, run: str, index: int, loaders: int, seen: int) -> Decision | None:
    """What a control document asks of loader `index` (None: nothing new, or not this run's)."""
    if not isinstance(doc, dict) or doc.get("run") != run:
        return None
    gen = int(doc.get("gen") or 0)
    if doc.get("stop"):
        return Decision(gen, None, None)
    if gen <= seen or not isinstance(doc.get("plan"), dict):
        return None
    whole = Plan.from_dict(doc["plan"])
    return Decision(gen, share_of(whole, index, loaders), whole)


class ControlPoller:
    """`await poller.run(apply, stop, said)`: poll until stopped; each new generation is applied
    (`apply(part)`), then said (`said(gen, part)`); a stop document calls `stop()` and returns.

    `spec` (the share's `control`): url (the object, path-style), region, keys (a local
    endpoint's fixed test keys; else the function's own role from the environment), every_s.
    A failed GET is counted and retried at the next poll: a loader keeps its level meanwhile.
    """

    def __init__(self, spec: dict[str, Any], index: int, loaders: int) -> None:
        self.url = str(spec["url"])
        self.run_id = str(spec["run"])
        self.every_s = float(spec.get("every_s") or EVERY_S)
        self.index, self.loaders = index, loaders
        self.gen = 0
        self.failures = 0
        self.last_error: str | None = None
        self._etag: str | None = None
        from loadgen.signing import CredentialsProvider, SigV4Signer, chain_credentials, static_credentials

        credentials: CredentialsProvider | None
        if spec.get("keys"):
            credentials = static_credentials(*spec["keys"])
        else:
            credentials, _ = chain_credentials()
        self._signer = SigV4Signer(spec.get("region"), credentials, service="s3")

    async def run(
        self,
        apply: Callable[[Plan], None],
        stop: Callable[[], None],
        said: Callable[[int, Plan | None], Awaitable[None]],
    ) -> None:
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=max(2.0, self.every_s * 10))
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                doc = await self._read(http)
                d = decide(doc, self.run_id, self.index, self.loaders, self.gen) if doc is not None else None
                if d is not None:
                    self.gen = d.gen
                    if d.part is None:
                        stop()
                        await said(d.gen, None)
                        return
                    apply(d.part)
                    await said(d.gen, d.part)
                await asyncio.sleep(self.every_s)

    async def _read(self, http: "aiohttp.ClientSession") -> Any:
        headers = {"x-amz-content-sha256": EMPTY_SHA256}
        if self._etag:
            headers["If-None-Match"] = self._etag
        try:
            signed = self._signer.sign("GET", self.url, headers, None)
            async with http.get(self.url, headers=signed) as resp:
                if resp.status in (304, 404):  # unchanged, or not written yet
                    return None
                body = await resp.read()
                if resp.status != 200:
                    raise OSError(f"HTTP {resp.status}: {body[:200]!r}")
                self._etag = resp.headers.get("ETag")
                return json.loads(body)
        except Exception as exc:  # noqa: BLE001 - a poll that failed keeps the level; counted, said at the end
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:200]
            return None
