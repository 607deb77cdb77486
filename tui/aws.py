"""AWS clients for the monitor, configured once: retries, endpoints, credentials.

`endpoint_url` points every call at a stand-in (the local Lambda, moto, LocalStack). Live Tail
against such an endpoint needs `inject_host_prefix=False`, or botocore dials
`streaming-127.0.0.1` (MEASURED.md).
"""

import aioboto3
from aiobotocore.config import AioConfig

# The local Lambda's moto server accepts any keys; these never leave the machine.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def make_session(profile: str | None = None, region: str | None = None) -> aioboto3.Session:
    return aioboto3.Session(profile_name=profile, region_name=region)


def client(session: aioboto3.Session, service: str, *, endpoint_url: str | None = None,
           credentials: dict | None = None, region: str | None = None, max_attempts: int = 10):
    """An async client context manager with adaptive retries (the poller's account budget).

    One-shot lookups pass a small `max_attempts`: an unreachable endpoint should be reported in
    seconds, not after ten backed-off retries.
    """
    config = AioConfig(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        inject_host_prefix=endpoint_url is None,
        connect_timeout=5 if max_attempts > 3 else 2,
        read_timeout=60,
    )
    return session.client(service, endpoint_url=endpoint_url, region_name=region, config=config,
                          **(credentials or {}))
