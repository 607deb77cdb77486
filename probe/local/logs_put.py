"""PutLogEvents on the wire, for the local Lambda's log shipper: one signed JSON 1.1 POST on a
kept-alive aiohttp session, nothing else.

The shipper makes hundreds of calls a second to moto (one per stream per flush). Through
aiobotocore each call spends most of its CPU outside the request (parameter validation, the
endpoint ruleset, the user agent, retry bookkeeping, response parsing), on the same event loop as
the front door and the environments. This sends the same request AWS's SDKs send: the
`Logs_20140328.PutLogEvents` target, the JSON body, a SigV4 signature made by botocore's own
signer; an error answer is raised with CloudWatch Logs' error type. Measured side by side in
tests/bench/bench_local.py (`PutLogEvents CPU per call`).
"""

import json

import aiohttp
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TARGET = "Logs_20140328.PutLogEvents"
CONTENT_TYPE = "application/x-amz-json-1.1"


class LogsCallError(Exception):
    """CloudWatch Logs' answer to a call it refused: its error type and message."""

    def __init__(self, status: int, error_type: str, message: str):
        super().__init__(f"{error_type} (HTTP {status}): {message}")
        self.status = status
        self.error_type = error_type


class PutLogEvents:
    """`await put(group, stream, events)` against one endpoint; `close()` when done."""

    def __init__(self, endpoint: str, region: str, credentials: tuple[str, str], timeout_s: float = 60.0):
        self.url = endpoint.rstrip("/") + "/"
        self._signer = SigV4Auth(Credentials(*credentials), "logs", region)
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def put(self, group: str, stream: str, events: list[dict]) -> dict:
        body = json.dumps({"logGroupName": group, "logStreamName": stream, "logEvents": events}).encode()
        request = AWSRequest(
            method="POST", url=self.url, data=body, headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET}
        )
        self._signer.add_auth(request)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.post(self.url, data=body, headers=dict(request.headers.items())) as resp:
            answer = await resp.read()
        try:
            doc = json.loads(answer) if answer else {}
        except ValueError:
            doc = {}
        if resp.status != 200:
            kind = str(doc.get("__type", f"HTTP {resp.status}")).rsplit("#", 1)[-1]
            raise LogsCallError(resp.status, kind, str(doc.get("message", doc.get("Message", "")))[:200])
        return doc

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
