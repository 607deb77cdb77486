"""InvokeWithResponseStream on the local Lambda, read by aioboto3's own client (botocore's
event-stream parser checks both CRCs of every frame): the probe (buffered, one PayloadChunk at
the end) and the loader (its own streaming runtime, chunks as it writes them)."""

import asyncio
import base64
import json
import time

import pytest

from loadgen.loader import record as R
from probe.local import LocalLambda
from probe.local.loader_host import LOADER_NAME
from tests.local.conftest import assert_nothing_left
from tests.local.test_invoke_api import NO_RETRY, lambda_client


async def read_stream(resp) -> tuple[list[bytes], list[dict]]:
    chunks, completes = [], []
    async for event in resp["EventStream"]:
        if "PayloadChunk" in event:
            chunks.append(event["PayloadChunk"]["Payload"])
        if "InvokeComplete" in event:
            completes.append(event["InvokeComplete"])
    return chunks, completes


async def test_a_buffered_function_answers_in_payload_chunks_then_invoke_complete():
    async with LocalLambda() as ll, lambda_client(ll) as client:
        resp = await client.invoke_with_response_stream(
            FunctionName=ll.function_name, Payload=json.dumps({"client_request_id": "streamed"}), LogType="Tail"
        )
        assert resp["StatusCode"] == 200 and resp["ExecutedVersion"] == "$LATEST"
        chunks, completes = await read_stream(resp)
        record = json.loads(b"".join(chunks))
        assert record["client_request_id"] == "streamed"
        assert record["request_id"] == resp["ResponseMetadata"]["RequestId"]
        assert len(completes) == 1 and "ErrorCode" not in completes[0]
        assert "REPORT RequestId: " in base64.b64decode(completes[0]["LogResult"]).decode()
    assert_nothing_left(ll)


async def test_unknown_function_and_bad_payload_are_the_invoke_apis_errors():
    async with LocalLambda() as ll, lambda_client(ll, NO_RETRY) as client:
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            await client.invoke_with_response_stream(FunctionName="nope", Payload=b"{}")
        with pytest.raises(client.exceptions.InvalidRequestContentException):
            await client.invoke_with_response_stream(FunctionName=ll.function_name, Payload=b"{not json")


def share(ll, **over) -> dict:
    now = time.time()
    base = {
        "lambdascope_loader": 1,
        "loader": 0,
        "loaders": 1,
        "mode": "closed",
        "level": 2,
        "requests": 20,
        "duration_s": None,
        "hold_ms": 0,
        "target": {"kind": "url", "url": ll.function_url, "auth": "none"},
        "start_at": now + 0.2,
        "issued_at": now,
        "batch_s": 0.05,
    }
    return {**base, **over}


def lines(chunks: list[bytes]) -> list[dict]:
    # Chunk boundaries are the transport's, not the records': join, then split lines.
    return [json.loads(line) for line in b"".join(chunks).splitlines() if line]


async def test_the_loader_streams_its_batches_and_ends_with_its_count():
    async with LocalLambda() as ll, lambda_client(ll) as client:
        resp = await client.invoke_with_response_stream(FunctionName=LOADER_NAME, Payload=json.dumps(share(ll)))
        chunks, completes = await read_stream(resp)
        records = lines(chunks)
        assert records[0]["kind"] == "hello" and records[-1] == {**records[-1], "kind": "end", "sent": 20}
        batches = [r for r in records if r["kind"] == "batch"]
        rows = [row for b in batches for row in b["rows"]]
        assert len(rows) == 20 and len({r[0] for r in rows}) == 20
        assert sum(b["counts"].get("ok", 0) for b in batches) == 20
        merged = R.new_histogram()
        for b in batches:
            if b["hist"]:
                merged.add(R.decode_histogram(b["hist"]))
        assert merged.get_total_count() == 20
        assert len(completes) == 1 and "ErrorCode" not in completes[0]
        assert len(chunks) > 1, "the loader's records arrived as one chunk: nothing was streamed"
    assert_nothing_left(ll)


async def test_a_bad_share_is_a_function_error_before_the_stream():
    async with LocalLambda() as ll, lambda_client(ll) as client:
        resp = await client.invoke_with_response_stream(FunctionName=LOADER_NAME, Payload=b'{"x": 1}')
        chunks, completes = await read_stream(resp)
        assert chunks == []
        assert completes[0]["ErrorCode"] == "Runtime.ShareError"
        assert "lambdascope_loader" in completes[0]["ErrorDetails"]


async def test_a_loader_killed_mid_stream_ends_its_stream_with_an_error():
    async with LocalLambda() as ll, lambda_client(ll) as client:
        resp = await client.invoke_with_response_stream(
            FunctionName=LOADER_NAME, Payload=json.dumps(share(ll, requests=None, duration_s=30, hold_ms=50))
        )
        stream = resp["EventStream"]
        seen = []
        async with asyncio.timeout(30):
            async for event in stream:
                if "PayloadChunk" in event:
                    seen.append(event["PayloadChunk"]["Payload"])
                    if any(r["kind"] == "batch" for r in lines(seen)):
                        (env,) = ll.loader.started.environments
                        env.kill_now()
                        break
            completes = [e["InvokeComplete"] async for e in stream if "InvokeComplete" in e]
        assert completes and completes[0]["ErrorCode"] in ("Unhandled", "Runtime.StreamCut")
