"""Which capacity provider a Managed Instances function runs on, and where its system log is.

A function on a capacity provider carries `CapacityProviderConfig.
LambdaManagedInstancesCapacityProviderConfig.CapacityProviderArn` in its configuration (docs
API_CapacityProviderConfig, API_LambdaManagedInstancesCapacityProviderConfig). The provider
writes its system log to `/aws/lambda/capacity-provider/<name>` unless its LoggingConfig names
another group (docs API_CapacityProviderLoggingConfig).

The botocore that aioboto3 pins here (1.40.61) predates Managed Instances: its model has no
`CapacityProviderConfig`, and its parser drops what the model does not name. So the field is
read from the raw GetFunctionConfiguration answer (`keep_raw_config`), before botocore parses
it. A custom log group needs GetCapacityProvider, which that botocore does not have either: such
a user passes the group itself (`--capacity-provider /my/group`).
"""

import json
import re

from tui.core.errors import UserError

DEFAULT_GROUP = "/aws/lambda/capacity-provider/{name}"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,140}$")
_GROUP = re.compile(r"^[./#A-Za-z0-9_-]{1,512}$")  # CloudWatch Logs' log group name pattern
_ARN = re.compile(r"^arn:[\w-]+:lambda:[\w-]*:\d*:capacity-provider:(?P<name>[A-Za-z0-9_.-]+)$")


def log_group_for(value: str) -> str:
    """The system log group a `--capacity-provider` value names: a provider's NAME (its default
    group), or a log group itself (it has a `/`). Anything else is one line naming the fix."""
    value = (value or "").strip()
    if "/" in value:
        if _GROUP.match(value):
            return value
    elif _NAME.match(value):
        return DEFAULT_GROUP.format(name=value)
    raise UserError(
        f"--capacity-provider {value!r}: give the capacity provider's name (letters, digits, '-', '_', '.') "
        "or its system log group (e.g. /aws/lambda/capacity-provider/NAME)"
    )


def name_from_arn(arn) -> str | None:
    m = _ARN.match(arn) if isinstance(arn, str) else None
    return m["name"] if m else None


def group_from_config(config: dict) -> str | None:
    """The system log group of the capacity provider a function configuration names, or None for
    a function that runs on none (every other function)."""
    cp = config.get("CapacityProviderConfig") if isinstance(config, dict) else None
    lmi = cp.get("LambdaManagedInstancesCapacityProviderConfig") if isinstance(cp, dict) else None
    name = name_from_arn(lmi.get("CapacityProviderArn")) if isinstance(lmi, dict) else None
    return DEFAULT_GROUP.format(name=name) if name else None


def keep_raw_config(client, into: dict) -> None:
    """Keep the raw JSON of `client`'s GetFunctionConfiguration answers in `into`, so fields
    this botocore's model lacks (CapacityProviderConfig) are not lost to its parser."""

    def handler(response_dict=None, **_):
        body = (response_dict or {}).get("body")
        if not isinstance(body, (bytes, str)) or not body:
            return
        try:
            doc = json.loads(body)
        except ValueError:
            return  # not JSON: botocore's parser will say what went wrong
        if isinstance(doc, dict):
            into.update(doc)

    client.meta.events.register("before-parse.lambda.GetFunctionConfiguration", handler)
