"""SigV4 signing for Lambda (function URLs with AuthType AWS_IAM, and the Invoke API).

botocore's own `SigV4Auth` does the signing, so the signature is exactly what the AWS SDKs
send; only the transport differs (aiohttp instead of the aiobotocore client, which costs ~9x
more CPU per call). Credentials come from botocore's standard chain (env, profile, SSO,
container, instance metadata) and are read through `get_frozen_credentials()` for every
request, so refreshable credentials renew themselves before they expire and one request never
mixes an old key with a new secret.

No credential is ever stored in a field that prints: `repr()` of a signer shows the region only.
"""

from collections.abc import Mapping
from typing import Protocol, Self

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, ClientError

from loadgen.errors import CredentialsError


class CredentialsProvider(Protocol):
    """botocore's credentials (static or refreshable): one consistent key, secret and token per
    call, handed to botocore's SigV4Auth as they are."""

    def get_frozen_credentials(self) -> object: ...


class SigV4Signer:
    """Signs one request at a time. `credentials` has `get_frozen_credentials()` (botocore's)."""

    def __init__(
        self,
        region: str | None,
        credentials: CredentialsProvider | None,
        service: str = "lambda",
        profile: str | None = None,
    ) -> None:
        if not region:
            raise CredentialsError("no AWS region for signing: pass --region or set AWS_REGION")
        if credentials is None:
            raise CredentialsError("no AWS credentials found: set AWS_PROFILE, run 'aws configure' or 'aws sso login'")
        self.region = region
        self.service = service
        self.profile = profile  # only to describe the target again (its spec)
        self._credentials = credentials

    @classmethod
    def from_chain(cls, region: str | None = None, profile: str | None = None, service: str = "lambda") -> Self:
        """Credentials and default region from botocore's standard chain (optionally a profile)."""
        credentials, default_region = chain_credentials(profile)
        return cls(region or default_region, credentials, service, profile)

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        """Headers to send: `headers` plus X-Amz-Date, Authorization and, for temporary
        credentials, X-Amz-Security-Token. `url` must be exactly the URL sent on the wire."""
        try:
            frozen = self._credentials.get_frozen_credentials()
        except (BotoCoreError, ClientError) as exc:
            # A refresh failed (expired SSO session, STS denied): no request can succeed.
            raise CredentialsError(f"AWS credentials could not be refreshed: {exc}") from None
        request = AWSRequest(method=method, url=url, headers=headers, data=body or b"")
        SigV4Auth(frozen, self.service, self.region).add_auth(request)
        return dict(request.headers.items())

    def __repr__(self) -> str:
        return f"SigV4Signer(region={self.region!r}, service={self.service!r})"


def static_credentials(key: str, secret: str) -> CredentialsProvider:
    """Fixed keys (a local endpoint's test keys), as botocore's credentials."""
    from botocore.credentials import Credentials

    credentials: CredentialsProvider = Credentials(key, secret)
    return credentials


def chain_credentials(profile: str | None = None) -> tuple[CredentialsProvider | None, str | None]:
    """(credentials, default region) from botocore's standard chain; credentials may be None."""
    try:
        session = botocore.session.Session(profile=profile)
        return session.get_credentials(), session.get_config_variable("region")
    except BotoCoreError as exc:  # e.g. ProfileNotFound: its message names the profile
        raise CredentialsError(f"AWS credentials: {exc}") from None
