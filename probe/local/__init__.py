"""The embedded local AWS Lambda: a function URL and Invoke API in front of real execution
environments, logging to a local CloudWatch Logs endpoint (moto). See DESIGN.md. Its command
line is `lambdascope local` (tui/commands/local.py): there is one parser for it."""

from probe.local.local_lambda import LocalLambda, serve
from probe.local.profile import Profile, load_profile

__all__ = ["LocalLambda", "Profile", "load_profile", "serve"]
