"""A small HTTP/1.1 keep-alive client on asyncio protocols, for when the client is the limit.

Why it exists: on loopback the aiohttp client spends ~170 us of CPU per request on this
machine (MEASURED.md saw 65-90 us on a faster one), so it reaches about a third of `ab -k`;
this client does the same request in ~60 us. It does only what the load generator needs: one
request at a time per connection (no pipelining), Content-Length, chunked and read-to-close
bodies, keep-alive, TLS, per-request deadlines, a bounded pool per origin. No redirects, no
proxies, no cookies, no decompression (the requests never ask for compression).

Errors are the standard ones (ConnectionRefusedError, ConnectionResetError, TimeoutError,
ssl.SSLError) or `ResponseError`, so `errors.classify_exception` treats both clients alike.
"""

import asyncio
import errno
import ssl
from collections import deque

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

    def __init__(self, *, limit, timeout, connect_timeout, max_body=_MAX_BODY, ssl_context=None):
        self._limit = limit
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_body = max_body
        self._pools = {}  # (scheme, host, port) -> _Pool
        self._prepared = {}  # (method, url) -> (pool, request line and fixed headers)
        self._ssl = ssl_context  # None: the system's trust store, as browsers and the SDKs use
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
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"not an http(s) URL: {url!r}")
        key = (parsed.scheme, parsed.host, parsed.port)
        pool = self._pools.get(key)
        if pool is None:
            context = None
            if parsed.scheme == "https":
                if self._ssl is None:
                    self._ssl = ssl.create_default_context()
                context = self._ssl
            pool = self._pools[key] = _Pool(self, parsed.raw_host, parsed.port, context)
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

    def __init__(self, client, host, port, ssl_context):
        self._client = client
        self._host = host
        self._port = port
        self._ssl = ssl_context
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
                _, conn = await loop.create_connection(
                    lambda: _Conn(client._max_body), self._host, self._port, ssl=self._ssl,
                    server_hostname=self._host if self._ssl else None)
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


# Parser states
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _TRAILERS, _TO_EOF = range(6)


class _Conn(asyncio.Protocol):
    """One connection: sends a request, parses one response, resolves the future with
    (status, headers, body, keep_alive)."""

    def __init__(self, max_body):
        self._max_body = max_body
        self.transport = None
        self.closed = False
        self.idle_since = 0.0
        self._fut = None
        self._buf = bytearray()
        self._state = _HEAD
        self._status = 0
        self._headers = None
        self._keep = False
        self._remaining = 0
        self._body = None

    def connection_made(self, transport):
        self.transport = transport

    def send(self, data, fut):
        self._fut = fut
        self._state = _HEAD
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
        self._buf += data
        try:
            self._parse()
        except ResponseError as exc:
            self._fail(exc)

    def eof_received(self):
        return False  # close our side too

    def connection_lost(self, exc):
        self.closed = True
        fut, self._fut = self._fut, None
        if fut is None or fut.done():
            return
        if self._state == _TO_EOF:
            fut.set_result((self._status, self._headers, bytes(self._buf), False))
            return
        if exc is None or not isinstance(exc, OSError):
            exc = ConnectionResetError(errno.ECONNRESET, "server closed the connection "
                                       "before the response was complete")
        fut.set_exception(exc)

    def _fail(self, exc):
        fut, self._fut = self._fut, None
        if fut is not None and not fut.done():
            fut.set_exception(exc)
        self.abort()

    def _parse(self):
        buf = self._buf
        while True:
            state = self._state
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > _MAX_HEAD:
                        raise ResponseError("response header larger than 64 KB")
                    return
                head = bytes(buf[:end])
                del buf[:end + 4]
                if not self._head(head):
                    continue  # an interim 1xx response: the real one follows
            elif state == _LENGTH:
                if len(buf) < self._remaining:
                    return
                self._body = bytes(buf[:self._remaining])
                del buf[:self._remaining]
                return self._done()
            elif state == _CHUNK_SIZE:
                end = buf.find(b"\r\n")
                if end < 0:
                    return
                try:
                    size = int(bytes(buf[:end]).split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ResponseError("bad chunk size in a chunked response") from None
                del buf[:end + 2]
                if size == 0:
                    self._state = _TRAILERS
                else:
                    if len(self._body) + size > self._max_body:
                        raise ResponseError(f"response body larger than {self._max_body} bytes")
                    self._remaining = size
                    self._state = _CHUNK_DATA
            elif state == _CHUNK_DATA:
                if len(buf) < self._remaining + 2:
                    return
                self._body += buf[:self._remaining]
                del buf[:self._remaining + 2]
                self._state = _CHUNK_SIZE
            elif state == _TRAILERS:
                end = buf.find(b"\r\n")
                if end < 0:
                    return
                del buf[:end + 2]
                if end == 0:  # the empty line after the (usually absent) trailers
                    self._body = bytes(self._body)
                    return self._done()
            else:  # _TO_EOF: everything until the server closes
                if len(buf) > self._max_body:
                    raise ResponseError(f"response body larger than {self._max_body} bytes")
                return

    def _head(self, head):
        """Parse a status line and headers; False for an interim (1xx) response."""
        lines = head.decode("latin-1").split("\r\n")
        status_line = lines[0]
        if not status_line.startswith("HTTP/1.") or len(status_line) < 12:
            raise ResponseError(f"not an HTTP/1.x response: {status_line[:40]!r}")
        try:
            status = int(status_line[9:12])
        except ValueError:
            raise ResponseError(f"bad status line: {status_line[:40]!r}") from None
        if 100 <= status < 200:
            return False
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        self._status = status
        self._headers = headers
        connection = headers.get("connection", "").lower()
        if status_line[7] == "0":  # HTTP/1.0 closes unless asked otherwise
            self._keep = connection == "keep-alive"
        else:
            self._keep = connection != "close"
        if status in (204, 304):
            self._body = b""
            self._remaining = 0
            self._state = _LENGTH
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._body = bytearray()
            self._state = _CHUNK_SIZE
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise ResponseError("bad Content-Length") from None
            if length < 0 or length > self._max_body:
                raise ResponseError(f"response body of {length} bytes refused")
            self._remaining = length
            self._state = _LENGTH
        else:
            self._keep = False
            self._state = _TO_EOF
        return True

    def _done(self):
        fut, self._fut = self._fut, None
        keep = self._keep and not self._buf  # stray bytes: the stream is out of step
        self._state = _HEAD
        if fut is not None and not fut.done():
            fut.set_result((self._status, self._headers, self._body, keep))
        self._headers = self._body = None
