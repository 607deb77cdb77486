"""A small HTTP/1.1 keep-alive client on asyncio protocols, for when the client is the limit:
plain-HTTP targets (the local Lambda, LocalStack). Over TLS (AWS) latency dominates and aiohttp
sends (tui/target.py picks by scheme), so this client speaks plain http:// only.

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


class FastClient:
    name = "fast"
    errors = (OSError, asyncio.TimeoutError, ResponseError)  # what a request may raise

    def __init__(self, *, limit, timeout, connect_timeout, max_body=_MAX_BODY):
        self._limit = limit
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_body = max_body
        self._pools = {}  # (scheme, host, port) -> _Pool
        self._prepared = {}  # (method, url) -> (pool, request line and fixed headers)
        self._loop = None

    async def start(self):
        self._loop = asyncio.get_running_loop()

    async def request(self, method, url, headers, body):
        prepared = self._prepared.get((method, url))
        if prepared is None:
            prepared = self._prepared[(method, url)] = self._prepare(method, url)
        pool, head = prepared
        data = _serialize(head, method, headers, body)
        loop = self._loop
        deadline = loop.time() + self._timeout
        conn = await pool.acquire(deadline)
        fut = loop.create_future()
        timer = loop.call_at(deadline, _expire, fut, conn, self._timeout)
        keep = False
        try:
            conn.send(data, fut)
            status, response_headers, payload, keep = await fut
            return status, response_headers, payload
        finally:
            timer.cancel()
            pool.release(conn, keep)

    def _prepare(self, method, url):
        parsed = URL(url, encoded=True)
        if parsed.scheme != "http" or not parsed.host:
            # TLS is aiohttp's job (tui/target.py picks the client by scheme).
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

    async def close(self):
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        self._prepared.clear()


def _serialize(head, method, headers, body):
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


def _expire(fut, conn, timeout):
    if not fut.done():
        fut.set_exception(TimeoutError(f"no response within {timeout:g} s"))
    conn.abort()


class _Pool:
    """Connections to one origin: idle ones reused most-recent first (least likely to have been
    closed by the server), at most `limit` open, waiters served in order."""

    def __init__(self, client, host, port):
        self._client = client
        self._host = host
        self._port = port
        self._idle = deque()
        self._waiters = deque()
        self.open = 0

    async def acquire(self, deadline):
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
            waiter = self._client._loop.create_future()
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

    async def _connect(self, deadline):
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

    def release(self, conn, keep):
        if keep and not conn.closed:
            if not self._hand_on(conn):
                conn.idle_since = self._client._loop.time()
                self._idle.append(conn)
            return
        conn.abort()
        self.open -= 1
        self._hand_on(None)  # a slot is free: a waiter opens a connection

    def _hand_on(self, conn):
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    def close(self):
        while self._idle:
            self._idle.pop().abort()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()


class _Conn(asyncio.Protocol):
    """One connection, parsed by httptools (llhttp): sends a request, resolves the future with
    (status, headers, body, keep_alive) once the response is complete."""

    def __init__(self, max_body):
        self._max_body = max_body
        self._parser = httptools.HttpResponseParser(self)
        self.transport = None
        self.closed = False
        self.idle_since = 0.0
        self._fut = None
        self._result = None
        self._stray = False
        self._reset()

    def _reset(self):
        self._headers = {}
        self._body = []
        self._size = 0
        self._started = False
        self._framed = False  # Content-Length or chunked: else the body runs to the close
        self._keep = False

    def connection_made(self, transport):
        self.transport = transport

    def send(self, data, fut):
        self._fut = fut
        self._result = None
        self._reset()
        self.transport.write(data)

    def abort(self):
        if not self.closed:
            self.closed = True
            self.transport.abort()

    def data_received(self, data):
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

    def on_message_begin(self):
        if self._result is not None:
            self._stray = True  # a second response nobody asked for
        self._started = True

    def on_header(self, name, value):
        key = name.decode("latin-1").lower()
        self._headers[key] = value.decode("latin-1").strip()
        if key in ("content-length", "transfer-encoding"):
            self._framed = True

    def on_headers_complete(self):
        length = self._headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._max_body:
            raise ResponseError(f"response body of {length} bytes refused")
        self._keep = self._parser.should_keep_alive()

    def on_body(self, body):
        self._size += len(body)
        if self._size > self._max_body:
            raise ResponseError(f"response body larger than {self._max_body} bytes")
        self._body.append(body)

    def on_message_complete(self):
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            self._reset()  # an interim 1xx response: the real one follows
            return
        if self._result is None:
            self._result = (status, self._headers, b"".join(self._body), self._keep)

    def eof_received(self):
        return False  # close our side too

    def connection_lost(self, exc):
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

    def _fail(self, exc):
        fut, self._fut = self._fut, None
        if fut is not None and not fut.done():
            fut.set_exception(exc)
        self.abort()
