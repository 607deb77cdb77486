"""The fast HTTP/1.1 client against scripted raw servers: framing, keep-alive, failures."""

import asyncio

import pytest

from loadgen.errors import classify_exception
from loadgen.fastclient import FastClient

OK_BODY = b'{"container_id":"c1"}'


class RawServer:
    """Answers each request with `respond(n)` bytes (n = request number); None closes."""

    def __init__(self, respond, close_after=False):
        self.respond = respond
        self.close_after = close_after  # close silently after each answer (idle timeout)
        self.connections = 0
        self.requests = 0

    async def __aenter__(self):
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/x"
        return self

    async def __aexit__(self, *exc):
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader, writer):
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                self.requests += 1
                answer = self.respond(self.requests)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after or b"Connection: close" in answer or b"HTTP/1.0" in answer[:8]:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def ok(body=OK_BODY, extra=b""):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


async def request(client, url, method="GET", body=None):
    return await client.request(method, url, {"x-lambdascope-request-id": "a" * 32}, body)


@pytest.fixture
async def client():
    c = FastClient(limit=10, timeout=2.0, connect_timeout=1.0, max_body=1000)
    await c.start()
    yield c
    await c.close()


async def test_keep_alive_reuses_one_connection(client):
    async with RawServer(lambda n: ok()) as srv:
        for _ in range(20):
            status, headers, body = await request(client, srv.url, "POST", b"{}")
            assert (status, body) == (200, OK_BODY)
        assert srv.requests == 20 and srv.connections == 1


async def test_chunked_body_and_interim_100_response(client):
    chunked = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Amz-Function-Error: U\r\n\r\n"
        b'5;ext=1\r\n{"con\r\n10\r\ntainer_id":"c1"}\r\n0\r\nTrailer: x\r\n\r\n'
    )
    async with RawServer(lambda n: chunked) as srv:
        status, headers, body = await request(client, srv.url)
        assert (status, body) == (200, OK_BODY)
        assert headers["x-amz-function-error"] == "U"  # lower-case keys, as targets read them
        await request(client, srv.url)
        assert srv.connections == 1


async def test_body_until_close_and_connection_close(client):
    http10 = b"HTTP/1.0 200 OK\r\n\r\n" + OK_BODY
    async with RawServer(lambda n: http10) as srv:
        for _ in range(3):
            assert (await request(client, srv.url))[2] == OK_BODY
        assert srv.connections == 3
    async with RawServer(lambda n: ok(extra=b"Connection: close\r\n")) as srv:
        for _ in range(3):
            assert (await request(client, srv.url))[0] == 200
        assert srv.connections == 3


async def test_server_closing_an_idle_connection_is_not_an_error(client):
    async with RawServer(lambda n: ok(), close_after=True) as srv:
        assert (await request(client, srv.url))[0] == 200
        await asyncio.sleep(0.05)  # the server's close reaches the idle connection
        assert (await request(client, srv.url))[0] == 200
        assert srv.connections == 2


@pytest.mark.parametrize(
    "answer, error",
    [
        (lambda n: None, "reset"),  # closed without a response
        (lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\nConnection: close\r\n\r\nshort", "reset"),
        (lambda n: b"SSH-2.0-OpenSSH\r\n\r\n", "other"),
        (lambda n: ok(body=b"x" * 2000), "other"),  # above max_body
        (lambda n: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "other"),
    ],
)
async def test_failures_are_classified(client, answer, error):
    async with RawServer(answer) as srv:
        with pytest.raises(Exception) as info:
            await request(client, srv.url)
        assert classify_exception(info.value)[0] == error


async def test_timeout():
    client = FastClient(limit=2, timeout=0.2, connect_timeout=0.2)
    await client.start()
    async with RawServer(lambda n: b"") as srv:  # accepts, never answers
        with pytest.raises(TimeoutError) as info:
            await request(client, srv.url)
        assert classify_exception(info.value)[0] == "timeout"
    await client.close()


async def test_more_requests_than_the_pool_limit_wait_their_turn():
    client = FastClient(limit=2, timeout=2.0, connect_timeout=1.0)
    await client.start()

    async with RawServer(lambda n: ok()) as srv:
        results = await asyncio.gather(*(request(client, srv.url) for _ in range(10)))
        assert [r[0] for r in results] == [200] * 10
        assert srv.connections <= 2
    await client.close()


async def test_header_injection_is_refused(client):
    with pytest.raises(ValueError, match="line break"):
        await client.request("GET", "http://127.0.0.1:1/", {"x": "a\r\nevil: 1"}, None)


async def test_tls_is_left_to_aiohttp(client):
    with pytest.raises(ValueError, match="plain http:// only"):
        await request(client, "https://127.0.0.1:1/x")


async def test_bytes_after_the_response_make_the_connection_unusable(client):
    async with RawServer(lambda n: ok() + b"HTTP/1.1 200 OK\r\n") as srv:
        assert (await request(client, srv.url))[0] == 200
        assert (await request(client, srv.url))[0] == 200
        assert srv.connections == 2  # the stray bytes put the stream out of step: not reused


async def test_connections_idle_too_long_are_not_reused(client, monkeypatch):
    from loadgen import fastclient

    async with RawServer(lambda n: ok()) as srv:
        await request(client, srv.url)
        monkeypatch.setattr(fastclient, "KEEPALIVE_S", 0.0)
        await request(client, srv.url)
        assert srv.connections == 2
