"""The embedded local AWS Lambda: a function URL and Invoke API in front of real execution
environments, logging to a local CloudWatch Logs endpoint (moto). See DESIGN.md."""

from probe.local.local_lambda import LocalLambda
from probe.local.profile import Profile, load_profile


async def serve(profile_file=None, concurrency_limit=None, port=0, **kwargs):
    """Run the local Lambda until cancelled; see probe.local.__main__.serve."""
    from probe.local.__main__ import serve as _serve
    await _serve(profile_file, concurrency_limit, port, **kwargs)


__all__ = ["LocalLambda", "Profile", "load_profile", "serve"]
