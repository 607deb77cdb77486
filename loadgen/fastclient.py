"""A small HTTP/1.1 keep-alive client on asyncio protocols, for when the client is the limit:
plain-HTTP targets (the local Lambda, LocalStack). Over TLS (AWS) latency dominates and aiohttp
sends (tui/aws/target.py picks by scheme), so this client speaks plain http:// only.

Why it exists: aiohttp's client spends several times the CPU per request (tests/bench/
bench_loadgen.py prints both, and the README keeps the table). Responses are parsed by httptools
(llhttp, Node's parser: measured ~5 us a response against ~7.5 us for the hand-written parser it
replaced, and no framing code of our own to get wrong). It does only what the load generator
needs: one request at a time per connection (no pipelining), Content-Length, chunked and
read-to-close bodies, keep-alive, per-request deadlines, a bounded pool per origin. No
redirects, no proxies, no cookies, no decompression (the requests never ask for compression).

Errors are the standard ones (ConnectionRefusedError, ConnectionResetError, TimeoutError) or
`ResponseError`, so `errors.classify_exception` treats both clients alike.
"""

import asyncio
import errno
from collections import deque
from collections.abc import Mapping

import httptools
from yarl import URL

from loadgen.errors import ResponseError

_MAX_HEAD = 64 * 1024
_MAX_BODY = 8 * 1024 * 1024  # above Lambda's 6 MB response limit
_USER_AGENT = "lambdascope"
# Idle connections older than this are closed, not reused: a server closing an idle connection
# while our request is on its way makes a "reset" that the request did not deserve (aiohttp's
# default is the same 15 s).
KEEPALIVE_S = 15.0

# What a connection resolves a request's future with: status, headers (lower-case names), body,
# and whether the connection may be reused.
_Response = tuple[int, dict[str, str], bytes, bool]


class FastClient:
    name = "fast"
    errors: tuple[type[BaseException], ...] = (OSError, asyncio.TimeoutError, ResponseError)  # what a request may raise

    def __init__(self, *, limit: int, timeout: float, connect_timeout: float, max_body: int = _MAX_BODY) -> None:
        self._limit = limit
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_body = max_body
        self._pools: dict[tuple[str, int], _Pool] = {}  # (host, port) -> _Pool
        # (method, url) -> (pool, request line and fixed headers)
        self._prepared: dict[tuple[str, str], tuple[_Pool, str]] = {}
        self._loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]  # set by start(), before any request

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        prepared = self._prepared.get((method, url))
        if prepared is None:
            prepared = self._prepared[(method, url)] = self._prepare(method, url)
        pool, head = prepared
        data = _serialize(head, method, headers, body)
        loop = self._loop
        deadline = loop.time() + self._timeout
        conn = await pool.acquire(deadline)
        fut: asyncio.Future[_Response] = loop.create_future()
        timer = loop.call_at(deadline, _expire, fut, conn, self._timeout)
        keep = False
        try:
            conn.send(data, fut)
            status, response_headers, payload, keep = await fut
            return status, response_headers, payload
        finally:
            timer.cancel()
            pool.release(conn, keep)

    def _prepare(self, method: str, url: str) -> tuple["_Pool", str]:
        parsed = URL(url, encoded=True)
        # (raw_host is set when host is, and an http URL always has a port: 80 if it names none)
        if parsed.scheme != "http" or not parsed.host or not parsed.raw_host or parsed.port is None:
            # TLS is aiohttp's job (tui/aws/target.py picks the client by scheme).
            raise ValueError(f"the fast client sends plain http:// only (got {url!r})")
        key = (parsed.host, parsed.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self, parsed.raw_host, parsed.port)
        # Host exactly as SigV4 signs it: the port only when it is not the scheme's default.
        host = parsed.raw_host if ":" not in parsed.raw_host else f"[{parsed.raw_host}]"
        if not parsed.is_default_port():
            host = f"{host}:{parsed.port}"
        target = parsed.raw_path_qs or "/"
        return pool, f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {_USER_AGENT}\r\n"

    async def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        self._prepared.clear()


def _serialize(head: str, method: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
    lines = [head]
    for name, value in headers.items():
        value = str(value)
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
            raise ValueError(f"header {name!r} contains a line break")
        lines.append(f"{name}: {value}\r\n")
    if body:
        lines.append(f"Content-Length: {len(body)}\r\n\r\n")
        return "".join(lines).encode("latin-1") + body
    if method not in ("GET", "HEAD"):
        lines.append("Content-Length: 0\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


def _expire(fut: "asyncio.Future[_Response]", conn: "_Conn", timeout: float) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError(f"no response within {timeout:g} s"))
    conn.abort()


class _Pool:
    """Connections to one origin: idle ones reused most-recent first (least likely to have been
    closed by the server), at most `limit` open, waiters served in order."""

    def __init__(self, client: FastClient, host: str, port: int) -> None:
        self._client = client
        self._host = host
        self._port = port
        self._idle: deque[_Conn] = deque()
        self._waiters: deque[asyncio.Future[_Conn | None]] = deque()  # a connection, or None: a free slot
        self.open = 0

    async def acquire(self, deadline: float) -> "_Conn":
        conn: _Conn | None  # an idle one, or what a release handed on (None: a free slot)
        while True:
            now = self._client._loop.time()
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and now - conn.idle_since < KEEPALIVE_S:
                    return conn
                conn.abort()  # closed by the server while idle, or idle too long
                self.open -= 1
            if self.open < self._client._limit:
                self.open += 1
                try:
                    return await self._connect(deadline)
                except BaseException:
                    self.open -= 1
                    raise
            # Only when more requests are outstanding than the limit: wait for a release.
            waiter: asyncio.Future[_Conn | None] = self._client._loop.create_future()
            self._waiters.append(waiter)
            try:
                conn = await waiter
            except asyncio.CancelledError:
                # Cancelled just after a release handed us a connection: give it back.
                if waiter.done() and not waiter.cancelled():
                    handed = waiter.result()
                    if handed is not None:
                        self.release(handed, True)
                    else:
                        self._hand_on(None)  # pass the free slot to the next waiter
                raise
            if conn is not None and not conn.closed:
                return conn
            if conn is not None:
                self.open -= 1

    async def _connect(self, deadline: float) -> "_Conn":
        client = self._client
        loop = client._loop
        timeout = max(0.0, min(client._connect_timeout, deadline - loop.time()))
        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(lambda: _Conn(client._max_body), self._host, self._port)
        except OSError as exc:
            # With several addresses (localhost: ::1 and 127.0.0.1) asyncio folds the
            # failures into one OSError without an errno; keep "refused" visible.
            if exc.errno is None and f"[Errno {errno.ECONNREFUSED}]" in str(exc):
                raise ConnectionRefusedError(errno.ECONNREFUSED, str(exc)) from exc
            raise
        return conn

    def release(self, conn: "_Conn", keep: bool) -> None:
        if keep and not conn.closed:
            if not self._hand_on(conn):
                conn.idle_since = self._client._loop.time()
                self._idle.append(conn)
            return
        conn.abort()
        self.open -= 1
        self._hand_on(None)  # a slot is free: a waiter opens a connection

    def _hand_on(self, conn: "_Conn | None") -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    def close(self) -> None:
        while self._idle:
            self._idle.pop().abort()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()


class _Conn(asyncio.Protocol):
    """One connection, parsed by httptools (llhttp): sends a request, resolves the future with
    (status, headers, body, keep_alive) once the response is complete."""

    def __init__(self, max_body: int) -> None:
        self._max_body = max_body
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # set by connection_made
        self.closed = False
        self.idle_since = 0.0
        self._fut: asyncio.Future[_Response] | None = None
        self._result: _Response | None = None
        self._stray = False
        self._reset()

    def _reset(self) -> None:
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._started = False
        self._framed = False  # Content-Length or chunked: else the body runs to the close
        self._keep = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream connection's: an asyncio.Transport

    def send(self, data: bytes, fut: "asyncio.Future[_Response]") -> None:
        self._fut = fut
        self._result = None
        self._reset()
        self.transport.write(data)

    def abort(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        fut = self._fut
        if fut is None or fut.done():
            # Bytes nobody asked for (or after a timeout): the stream is out of step.
            self.abort()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__  # what our callback raised (a ResponseError: a bound)
            self._fail(cause if isinstance(cause, ResponseError) else ResponseError(str(exc)))
            return
        except httptools.HttpParserError as exc:
            self._fail(ResponseError(f"not a valid HTTP/1.x response ({exc})"))
            return
        if self._result is not None:
            status, headers, body, keep = self._result
            self._fut = self._result = None
            # Bytes past the response put the stream out of step: do not reuse it.
            fut.set_result((status, headers, body, keep and not self._stray))

    # ---- httptools callbacks, called from feed_data ----

    def on_message_begin(self) -> None:
        if self._result is not None:
            self._stray = True  # a second response nobody asked for
        self._started = True

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        self._headers[key] = value.decode("latin-1").strip()
        if key in ("content-length", "transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        length = self._headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._max_body:
            raise ResponseError(f"response body of {length} bytes refused")
        self._keep = self._parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self._max_body:
            raise ResponseError(f"response body larger than {self._max_body} bytes")
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            self._reset()  # an interim 1xx response: the real one follows
            return
        if self._result is None:
            self._result = (status, self._headers, b"".join(self._body), self._keep)

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        fut, self._fut = self._fut, None
        if fut is None or fut.done():
            return
        status = self._parser.get_status_code() if self._started else 0
        if status and not self._framed and self._result is None:
            # A body that runs until the server closes (HTTP/1.0 style): complete now.
            fut.set_result((status, self._headers, b"".join(self._body), False))
            return
        if exc is None or not isinstance(exc, OSError):
            exc = ConnectionResetError(
                errno.ECONNRESET, "server closed the connection before the response was complete"
            )
        fut.set_exception(exc)

    def _fail(self, exc: BaseException) -> None:
        fut, self._fut = self._fut, None
        if fut is not None and not fut.done():
            fut.set_exception(exc)
        self.abort()
