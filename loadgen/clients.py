"""The HTTP clients a Runner can send with: aiohttp (default; TLS) or the fast HTTP/1.1 client
(plain http:// only).

Both have one shape: `await start()`, `await request(method, url, headers, body)` returning
(status, headers with case-insensitive or lower-case `get`, body bytes), `await close()`:
the `HttpClient` protocol. One client per run: one connection pool, explicit limits and timeouts.
"""

from collections.abc import Mapping
from typing import Protocol

from yarl import URL

from loadgen.errors import CLIENT_ERRORS
from loadgen.fastclient import KEEPALIVE_S, FastClient

CLIENTS = ("aiohttp", "fast")


class HttpClient(Protocol):
    """What a Runner sends with (AiohttpClient, FastClient). Response headers are aiohttp's
    case-insensitive CIMultiDictProxy or the fast client's dict with lower-case names: read
    them with lower-case names."""

    @property
    def name(self) -> str: ...

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        """What a request may legitimately raise (anything else is a bug and propagates)."""
        ...

    async def start(self) -> None: ...

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, Mapping[str, str], bytes]: ...

    async def close(self) -> None: ...


def make_client(kind: str, *, limit: int, timeout: float, connect_timeout: float) -> HttpClient:
    if kind == "aiohttp":
        return AiohttpClient(limit=limit, timeout=timeout, connect_timeout=connect_timeout)
    if kind == "fast":
        return FastClient(limit=limit, timeout=timeout, connect_timeout=connect_timeout)
    raise ValueError(f"client must be one of {', '.join(CLIENTS)} (got {kind!r})")


class AiohttpClient:
    """One aiohttp ClientSession with the pool sized to the in-flight cap."""

    name = "aiohttp"

    def __init__(self, *, limit: int, timeout: float, connect_timeout: float) -> None:
        import aiohttp  # here, not at the top: the fast client's load process never needs it

        self._aiohttp = aiohttp
        self.errors: tuple[type[BaseException], ...] = (aiohttp.ClientError, *CLIENT_ERRORS)
        self._limit = limit
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=connect_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}  # url string -> yarl URL, built once (targets have one URL)

    async def start(self) -> None:
        aiohttp = self._aiohttp
        # The pool never makes a request wait (limit = the runner's in-flight cap), so queueing
        # shows as lateness in the runner, not as hidden latency inside aiohttp.
        connector = aiohttp.TCPConnector(
            limit=self._limit, limit_per_host=self._limit, ttl_dns_cache=300, keepalive_timeout=KEEPALIVE_S
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            # No cookies, no decompression, no proxies from the environment: the same bytes
            # every time, and nothing stateful between requests.
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
            raise_for_status=False,
        )

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, Mapping[str, str], bytes]:
        yurl = self._urls.get(url)
        if yurl is None:
            # encoded=True: send the path exactly as signed (yarl would otherwise re-normalise
            # %3A in an ARN to ':', and the signature would no longer match).
            yurl = self._urls[url] = URL(url, encoded=True)
        # (start() opened the session)
        async with self._session.request(method, yurl, headers=headers, data=body, allow_redirects=False) as response:  # type: ignore[union-attr]
            payload = await response.read()
            return response.status, response.headers, payload

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
