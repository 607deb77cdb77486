"""The function URL: the probe's record comes back, the event has payload format 2.0's shape,
and a handler's response is mapped the way Lambda maps it."""

import base64
import json

from probe.local import LocalLambda
from tests.local.conftest import assert_nothing_left


async def test_function_url_returns_the_probe_record(http):
    async with LocalLambda() as ll:
        records = []
        for n in range(2):
            async with http.get(ll.function_url, headers={"x-lambdascope-request-id": f"client-{n}"}) as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"].startswith("application/json")
                records.append(await resp.json())
        first, second = records
        assert first["lambdascope"] == 1
        assert first["client_request_id"] == "client-0"
        assert first["cold"] is True and second["cold"] is False
        assert first["seq"] == 1 and second["seq"] == 2
        stream = ll.environments[0]["stream"]
        assert first["container_id"] == second["container_id"] == stream
        assert first["function_name"] == "lambdascope-probe"
        assert first["memory_mb"] == 128 and first["region"] == "us-east-1"
        # The simulated host reached the probe through LAMBDASCOPE_PROC_ROOT.
        assert first["hostname"] == ll.environments[0]["host"]
        assert first["cpu_model"].startswith("Intel(R) Xeon(R)")
        assert ll.endpoints() == {
            "function_url": ll.function_url,
            "invoke_endpoint": ll.invoke_endpoint,
            "endpoint_url": ll.invoke_endpoint,
            "logs_endpoint": ll.logs_endpoint,
            "region": "us-east-1",
            "function_name": "lambdascope-probe",
            "log_group": "/aws/lambda/lambdascope-probe",
            "status_url": ll.status_url,
            "max_environment_processes": ll.fleet.max_processes,
            "moto_endpoint": ll.moto.endpoint,  # a fan-out's control object (S3) lives there
        }
    assert_nothing_left(ll)


async def test_event_shape_and_response_mapping(http):
    async with LocalLambda(handler="tests.local.handlers.echo") as ll:
        url = ll.function_url + "some/path?x=1&x=2&y=3"
        async with http.post(
            url,
            data=b"\x00\xffbin",
            headers={"X-Custom": "v", "Cookie": "c1=a; c2=b", "Content-Type": "application/octet-stream"},
        ) as resp:
            assert resp.status == 200
            out = await resp.json()
        event = out["event"]
        assert event["version"] == "2.0"
        assert event["rawPath"] == "/some/path"
        assert event["requestContext"]["http"]["method"] == "POST"
        assert event["requestContext"]["http"]["path"] == "/some/path"
        assert event["requestContext"]["requestId"] == out["request_id"]
        assert event["headers"]["x-custom"] == "v"
        assert "cookie" not in event["headers"] and event["cookies"] == ["c1=a", "c2=b"]
        assert event["queryStringParameters"] == {"x": "1,2", "y": "3"}
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == b"\x00\xffbin"
        async with http.post(ll.function_url, json={"a": 1}) as resp:
            event = (await resp.json())["event"]
        assert event["isBase64Encoded"] is False and json.loads(event["body"]) == {"a": 1}
    assert_nothing_left(ll)


async def test_status_code_result_is_an_http_response(http):
    async with LocalLambda(handler="tests.local.handlers.http") as ll:
        async with http.get(ll.function_url) as resp:
            assert resp.status == 201
            assert resp.headers["x-test"] == "yes"
            assert resp.headers.getall("Set-Cookie") == ["a=1", "b=2"]
            assert await resp.read() == b"hello"
    assert_nothing_left(ll)
