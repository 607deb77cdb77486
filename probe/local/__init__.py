"""The embedded local AWS Lambda: a function URL and Invoke API in front of real execution
environments, logging to a local CloudWatch Logs endpoint (moto). See DESIGN.md. Its command
line is `lambdascope local` (tui/commands/local.py): there is one parser for it.

The names below are imported on first use (PEP 562): `probe.local.moto_server` or
`probe.local.profile` alone must not pull in aiobotocore, which LocalLambda needs and which costs
~0.4 s of the monitor's start-up."""

import importlib

_EXPORTS = {
    "LocalLambda": "probe.local.local_lambda",
    "serve": "probe.local.local_lambda",
    "Profile": "probe.local.profile",
    "load_profile": "probe.local.profile",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'probe.local' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
