"""A request over Lambda's 6 MB payload limit gets Lambda's own 413, not a framework's text page:
`RequestEntityTooLargeException` JSON from the Invoke API (botocore raises its modeled
exception), `{"Message": ...}` from the function URL; and the body is not read past the limit
(a Content-Length over it is answered before a byte of the body is sent)."""

import asyncio
import json
from urllib.parse import urlsplit

import aioboto3
import pytest
from botocore.exceptions import ClientError

from probe.local import LocalLambda
from probe.local.invoke_api import MAX_PAYLOAD, TOO_LARGE
from tests.local.conftest import assert_nothing_left

OVER = b'"' + b"x" * (MAX_PAYLOAD + 1) + b'"'  # valid JSON, one string over the limit


def lambda_client(ll):
    key, secret = ll.credentials
    return aioboto3.Session().client(
        "lambda",
        endpoint_url=ll.invoke_endpoint,
        region_name=ll.region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


async def test_invoke_over_6_mb_is_request_entity_too_large():
    async with LocalLambda() as ll, lambda_client(ll) as client:
        with pytest.raises(ClientError) as caught:
            await client.invoke(FunctionName=ll.function_name, Payload=OVER)
        # The code AWS sends (botocore's model calls the shape RequestTooLargeException).
        assert caught.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
        assert caught.value.response["Error"]["Message"] == TOO_LARGE
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
        # The limit refused only the large: the next call is served.
        resp = await client.invoke(FunctionName=ll.function_name, Payload=b"{}")
        assert resp["StatusCode"] == 200
    assert_nothing_left(ll)


async def test_function_url_over_6_mb_is_lambdas_413_json(http):
    async with LocalLambda() as ll:
        async with http.post(ll.function_url, data=OVER, headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 413
            assert resp.headers["x-amzn-ErrorType"] == "RequestEntityTooLargeException"
            assert await resp.json() == {"Message": TOO_LARGE}
        # Under the limit as bytes, over it as the event: 5 MB of binary is 6.7 MB in base64.
        binary = bytes(range(256)) * (5 * 1024 * 4)
        async with http.post(ll.function_url, data=binary, headers={"Content-Type": "application/octet-stream"}) as r:
            assert r.status == 413 and (await r.json())["Message"] == TOO_LARGE
        async with http.get(ll.function_url) as resp:
            assert resp.status == 200
    assert_nothing_left(ll)


async def _raw_request(url: str, path: str, headers: dict[str, str], body_chunks=()) -> tuple[str, dict]:
    """One HTTP/1.1 request on a raw socket: the status line and the JSON body of the answer."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": parts.netloc, **headers}.items())
        writer.write(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode())
        for chunk in body_chunks:
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
        if body_chunks:
            writer.write(b"0\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(30):
            status = (await reader.readline()).decode().strip()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = json.loads(await reader.readexactly(length))
        return status, body
    finally:
        writer.close()


async def test_the_body_is_not_read_past_the_limit():
    async with LocalLambda() as ll:
        invoke_path = f"/2015-03-31/functions/{ll.function_name}/invocations"
        # Content-Length says 1 GB and no byte of it is sent: the 413 comes all the same.
        status, body = await _raw_request(
            ll.invoke_endpoint, invoke_path, {"Content-Length": str(1 << 30), "Content-Type": "application/json"}
        )
        assert status.startswith("HTTP/1.1 413") and body["message"] == TOO_LARGE
        status, body = await _raw_request(ll.function_url, "/", {"Content-Length": str(1 << 30)})
        assert status.startswith("HTTP/1.1 413") and body == {"Message": TOO_LARGE}
        # Chunked, no length: refused once the chunks pass the limit.
        chunks = [b"x" * (1 << 20)] * 7
        status, body = await _raw_request(ll.invoke_endpoint, invoke_path, {"Transfer-Encoding": "chunked"}, chunks)
        assert status.startswith("HTTP/1.1 413") and body["message"] == TOO_LARGE
    assert_nothing_left(ll)
