"""AWS clients for the monitor, configured once: retries, endpoints, credentials.

`endpoint_url` points every call at a stand-in (the local Lambda, moto, LocalStack). Live Tail
against such an endpoint needs `inject_host_prefix=False`, or botocore dials
`streaming-127.0.0.1` (MEASURED.md).
"""

from contextlib import asynccontextmanager

import aioboto3
from aiobotocore.config import AioConfig

from tui.core.errors import remember

# The local Lambda's moto server accepts any keys; these never leave the machine.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def make_session(profile: str | None = None, region: str | None = None) -> aioboto3.Session:
    return aioboto3.Session(profile_name=profile, region_name=region)


async def remember_credentials(session: aioboto3.Session) -> None:
    """Resolve the session's credentials (any provider: environment, shared files, profiles, SSO
    cache, a credential process) and hand the values to the masker, so no error, screen, recording
    or export can show them. botocore caches them on the session: clients made from it reuse
    them, so this costs no second resolution. Nothing here is ever printed."""
    credentials = await session.get_credentials()
    if credentials is None:
        return  # the call itself will fail with NoCredentialsError, which aws_errors explains
    frozen = await credentials.get_frozen_credentials()
    remember(frozen.access_key, frozen.secret_key, frozen.token)


@asynccontextmanager
async def client(
    session: aioboto3.Session,
    service: str,
    *,
    endpoint_url: str | None = None,
    credentials: dict | None = None,
    region: str | None = None,
    max_attempts: int = 10,
    max_pool_connections: int | None = None,
):
    """An async client with retries; the session's credentials are masked from then on.

    `max_pool_connections`: calls in flight at once (botocore's default is 10); a caller that
    holds one open per worker (a fan-out's loader streams) says how many it holds.

    Callers that own their retries (the log sources, one-shot lookups) pass a small
    `max_attempts`: botocore's own retries would hide a throttle or an unreachable endpoint
    from them for tens of seconds.
    """
    if credentials:
        remember(*credentials.values())
    else:
        await remember_credentials(session)
    config = AioConfig(
        # Adaptive mode adds a client-side rate limiter that sleeps after throttles: right for a
        # caller that leaves retries to botocore, wrong under a reader that owns its retries
        # (its own backoff and budget would be hidden behind botocore's sleeps).
        retries={"mode": "adaptive" if max_attempts > 2 else "standard", "max_attempts": max_attempts},
        inject_host_prefix=endpoint_url is None,
        connect_timeout=5 if max_attempts > 3 else 2,
        read_timeout=60,
        **({"max_pool_connections": max_pool_connections} if max_pool_connections else {}),
    )
    async with session.client(
        service, endpoint_url=endpoint_url, region_name=region, config=config, **(credentials or {})
    ) as c:
        yield c
