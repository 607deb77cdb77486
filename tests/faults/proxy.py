"""A small HTTP/1.1 fault proxy of our own, in the manner of toxiproxy, for 127.0.0.1 only.

It sits in front of one upstream (the CloudWatch Logs endpoint, a function URL, the Invoke API)
and, per request, at a set rate (deterministic: every k-th request), does one of:
- drop at accept: the connection is closed before a byte is read;
- lose the response: the request is forwarded (Lambda runs it) and the connection is reset
  before the answer: the client cannot know the outcome;
- reset mid-response: the status line, the headers and half the body, then a reset;
- delay: the answer waits;
- throttle: a 400 ThrottlingException in AWS's JSON wire format (CloudWatch Logs requests only);
and on FilterLogEvents answers it shuffles the events of a page and re-sends the previous page's
events (duplicates). `go_away(seconds)` stops listening and cuts live connections (a restart),
then comes back on the same port.

Requests are parsed just enough to forward them (request line, headers, Content-Length body);
answers are read whole from the upstream with aiohttp and written back with a Content-Length.
Every fault is counted, so a scenario can assert exact numbers.
"""

import asyncio
import json
import random
from dataclasses import dataclass, field

import aiohttp

# Not forwarded (hop-by-hop, or recomputed). Host is kept: it is part of the SigV4 signature.
_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
}
THROTTLE_BODY = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()


@dataclass
class Faults:
    drop_at_accept: float = 0.0
    lose_response: float = 0.0
    reset_mid_response: float = 0.0
    delay: float = 0.0  # chance of a delay
    delay_s: float = 0.0
    throttle: float = 0.0
    # The 400's error code: CloudWatch Logs throttles with ThrottlingException; Kinesis with
    # ProvisionedThroughputExceededException (or answers ExpiredIteratorException).
    throttle_code: str = "ThrottlingException"
    shuffle: bool = False
    duplicate: float = 0.0  # chance that a FilterLogEvents page also carries the previous page's events
    only: str = ""  # apply request faults only to requests whose X-Amz-Target or path contains this


@dataclass
class Counts:
    connections: int = 0
    requests: int = 0
    forwarded: int = 0
    dropped: int = 0
    lost: int = 0
    reset: int = 0
    delayed: int = 0
    throttled: int = 0
    shuffled: int = 0
    duplicated_events: int = 0
    refused_while_away: int = 0
    extra: dict = field(default_factory=dict)


class FaultProxy:
    def __init__(self, upstream: str, faults: Faults | None = None, seed: int = 0):
        self.upstream = upstream.rstrip("/")
        self.faults = faults or Faults()
        self.counts = Counts()
        self._rng = random.Random(seed)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._http: aiohttp.ClientSession | None = None
        self._previous_events: list = []
        self._seen: dict[str, int] = {}
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> "FaultProxy":
        self._http = aiohttp.ClientSession(auto_decompress=False)
        await self._listen()
        return self

    async def __aexit__(self, *exc) -> None:
        await self._stop_listening()
        await self._http.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._on_connection, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.transport.abort()
            await self._server.wait_closed()
            self._server = None

    async def go_away(self, seconds: float) -> None:
        """A restart: nothing listens for `seconds` (connections are refused), live ones are cut."""
        await self._stop_listening()
        await asyncio.sleep(seconds)
        await self._listen()

    def _chance(self, p: float, kind: str) -> bool:
        """Deterministic, so every run meets its faults however few requests it makes: with
        p = 1/k, the 2nd, (k+2)th, (2k+2)th... eligible request of this kind."""
        if p <= 0:
            return False
        k = max(1, round(1 / p))
        n = self._seen[kind] = self._seen.get(kind, 0) + 1
        first = 1 if kind == "drop_at_accept" else 2  # a kept-alive client may accept only once
        return k == 1 or n % k == first % k

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counts.connections += 1
        if self._chance(self.faults.drop_at_accept, "drop_at_accept") and not self.faults.only:
            self.counts.dropped += 1
            writer.transport.abort()
            return
        self._writers.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                if not await self._serve(request, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def _serve(self, request, writer) -> bool:
        """Answer one request (or fail it); False when the connection must end."""
        method, path, headers, body = request
        self.counts.requests += 1
        f = self.faults
        tag = headers.get("x-amz-target", "") + " " + path
        faulty = not f.only or f.only in tag
        if faulty and f.only and self._chance(f.drop_at_accept, "drop_at_accept"):
            self.counts.dropped += 1  # the "accept" of this request: nothing read back, nothing sent on
            return False
        if faulty and headers.get("x-amz-target") and self._chance(f.throttle, "throttle"):
            self.counts.throttled += 1
            await _write(
                writer,
                400,
                {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "fault-proxy"},
                THROTTLE_BODY
                if f.throttle_code == "ThrottlingException"
                else json.dumps({"__type": f.throttle_code, "message": "Rate exceeded for shard"}).encode(),
            )
            return True
        fwd = {k: v for k, v in headers.items() if k not in _HOP}
        async with self._http.request(
            method, self.upstream + path, headers=fwd, data=body, allow_redirects=False
        ) as resp:
            status, rbody = resp.status, await resp.read()
            rheaders = {k: v for k, v in resp.headers.items() if k.lower() not in _HOP}
        self.counts.forwarded += 1
        if faulty and self._chance(f.lose_response, "lose_response"):
            self.counts.lost += 1  # Lambda ran it; the client never hears
            return False
        if headers.get("x-amz-target", "").endswith("FilterLogEvents") and status == 200:
            rbody = self._mangle_page(rbody)
        if faulty and self._chance(f.delay, "delay"):
            self.counts.delayed += 1
            await asyncio.sleep(f.delay_s)
        if faulty and self._chance(f.reset_mid_response, "reset_mid_response"):
            self.counts.reset += 1
            head = _head(status, rheaders, len(rbody))
            writer.write(head + rbody[: len(rbody) // 2])
            await writer.drain()
            return False
        if f.drop_at_accept:
            # Every request on a new connection, so every request passes an accept.
            await _write(writer, status, {**rheaders, "Connection": "close"}, rbody)
            return False
        await _write(writer, status, rheaders, rbody)
        return True

    def _mangle_page(self, body: bytes) -> bytes:
        f = self.faults
        if not (f.shuffle or f.duplicate):
            return body
        page = json.loads(body)
        events = list(page.get("events", []))
        extra = []
        if self._chance(f.duplicate, "duplicate") and self._previous_events:
            extra = list(self._previous_events)
            self.counts.duplicated_events += len(extra)
        self._previous_events = events[-50:]
        out = events + extra
        if f.shuffle and len(out) > 1:
            self._rng.shuffle(out)
            self.counts.shuffled += 1
        page["events"] = out
        return json.dumps(page).encode()


async def _read_request(reader: asyncio.StreamReader):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        raise ValueError("chunked request bodies are not supported by the fault proxy")
    n = int(headers.get("content-length") or 0)
    body = await reader.readexactly(n) if n else b""
    return method, path, headers, body


def _head(status: int, headers: dict, length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _write(writer, status: int, headers: dict, body: bytes) -> None:
    writer.write(_head(status, headers, len(body)) + body)
    await writer.drain()
