"""One HTTP pass-through, for the two places that hand a request on unchanged: the front door
(CloudWatch Logs calls sent to the one endpoint go on to the logs endpoint) and the logs front
(every call but StartLiveTail goes on to moto).

The answer streams back chunk by chunk as it arrives, so an event stream (Live Tail through the
front door) is never buffered. Hop-by-hop headers describe one connection, not the message, and
are dropped both ways (RFC 9110 §7.6.1); aiohttp sets its own.
"""

import logging

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

HOP_HEADERS = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Host",
        "Content-Length",
    )
)


async def pass_through(
    http: aiohttp.ClientSession, request: web.Request, url: str, upstreams: set | None = None
) -> web.StreamResponse:
    """Send `request` on to `url` (same method, body and end-to-end headers) and stream the
    answer back. Raises aiohttp.ClientError when the upstream cannot be reached (nothing has
    been written yet, so the caller can answer with an error of its own). `upstreams` tracks the
    open upstream answers, so a server shutting down can close them."""
    body = await request.read()
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
    upstream = await http.request(request.method, url, headers=headers, data=body, allow_redirects=False)
    if upstreams is not None:
        upstreams.add(upstream)
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    try:
        for key, value in upstream.headers.items():
            if key.lower() not in HOP_HEADERS:
                response.headers.add(key, value)
        if upstream.content_length is not None:
            response.content_length = upstream.content_length
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
        await response.write_eof()
        return response
    except (aiohttp.ClientError, ConnectionResetError) as exc:
        # The client went away (how a Live Tail reader ends a session) or the upstream did;
        # closing the upstream answer tells the server behind.
        log.debug("pass-through ended early: %r", exc)
        return response
    finally:
        if upstreams is not None:
            upstreams.discard(upstream)
        upstream.close()
