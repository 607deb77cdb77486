"""A function on AWS (or behind --endpoint-url) as a `Target`: its configuration, function URL
and AuthType, log group, timeout and concurrency limits, read once before anything starts.
"""

from contextlib import asynccontextmanager
from dataclasses import dataclass

from tui.aws.target import Target
from tui.core.errors import UserError
from tui.core.limits import ConcurrencyLimits


def _url_region(url: str) -> str | None:
    # https://<url-id>.lambda-url.<region>.on.aws
    host = url.split("://", 1)[-1].split("/", 1)[0]
    parts = host.split(".")
    if len(parts) >= 4 and parts[1] == "lambda-url":
        return parts[2]
    return None


@asynccontextmanager
async def aws_target(
    function: str | None = None,
    url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    use_invoke: bool = False,
    capacity_provider: str | None = None,
):
    """A function on AWS (or behind --endpoint-url): its URL and AuthType, its log group, and for
    Managed Instances its capacity provider's system log group (`capacity_provider` names it, else
    the function's configuration does: tui/aws/capacity_provider.py).

    Credentials come from the standard chain at call time; none are kept here.
    """
    from botocore.exceptions import ClientError

    from tui.aws import capacity_provider as capacity
    from tui.aws import clients as aws
    from tui.aws.errors import aws_errors

    cp_group = capacity.log_group_for(capacity_provider) if capacity_provider else None

    if not function:
        raise UserError("give --function NAME too: its log group is where lambdascope reads the containers")
    region = region or (url and _url_region(url))
    args = _Args(profile=profile, endpoint_url=endpoint_url, command="watch")
    with aws_errors(args):
        session = aws.make_session(profile, region)
        region = region or session.region_name
        if not region:
            raise UserError("no AWS region: pass --region (e.g. us-east-1) or set AWS_DEFAULT_REGION")
        raw_config: dict = {}
        async with aws.client(session, "lambda", endpoint_url=endpoint_url, region=region, max_attempts=2) as lam:
            capacity.keep_raw_config(lam, raw_config)
            try:
                cfg = await lam.get_function_configuration(FunctionName=function)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    raise UserError(
                        f"function {function!r} not found in {region}: check --function and --region, "
                        f"or deploy the probe with 'lambdascope deploy --name {function}'"
                    ) from None
                raise
            auth = "NONE"
            if url is None and not use_invoke:
                try:
                    cfg_url = await lam.get_function_url_config(FunctionName=function)
                    url, auth = cfg_url["FunctionUrl"], cfg_url.get("AuthType", "AWS_IAM")
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                        raise
            elif url is not None:
                auth = "AWS_IAM"  # signing costs little and a NONE URL ignores the signature
            limits, limits_note = await _concurrency_limits(lam, function)
    log_group = (cfg.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{function}"
    yield Target(
        label=f"{function} ({region})",
        kind="aws",
        function_name=function,
        region=region,
        log_group=log_group,
        function_url=None if use_invoke else url,
        invoke_endpoint=endpoint_url,
        logs_endpoint=endpoint_url,
        profile=profile,
        auth=auth,
        capacity_provider_log_group=cp_group or capacity.group_from_config(raw_config),
        timeout_s=float(cfg["Timeout"]) if isinstance(cfg.get("Timeout"), (int, float)) else None,
        limits=limits,
        limits_note=limits_note,
        extra={
            "memory_mb": cfg.get("MemorySize"),
            "runtime": cfg.get("Runtime"),
            "architectures": cfg.get("Architectures"),
        },
    )


async def _concurrency_limits(lam, function: str) -> tuple[ConcurrencyLimits | None, str | None]:
    """The account's concurrency (GetAccountSettings) and the function's reservation
    (GetFunctionConcurrency), each read on its own: not being allowed to read one (or an endpoint
    that does not serve it, as moto does not serve GetAccountSettings) costs only its part of the
    warning. (None, why) when neither could be read."""
    settings, account_error = await _read(lam.get_account_settings)
    reservation, reserved_error = await _read(lam.get_function_concurrency, FunctionName=function)
    limit = (settings or {}).get("AccountLimit") or {}
    total, unreserved = limit.get("ConcurrentExecutions"), limit.get("UnreservedConcurrentExecutions")
    reserved = (reservation or {}).get("ReservedConcurrentExecutions")
    limits = ConcurrencyLimits(
        total if isinstance(total, int) else None,
        unreserved if isinstance(unreserved, int) else None,
        reserved if isinstance(reserved, int) else None,
    )
    if settings is None and reservation is None:
        return None, (
            f"the account's concurrency limits are unread ({account_error or reserved_error}): allow "
            f"lambda:GetAccountSettings and lambda:GetFunctionConcurrency to be warned before Lambda throttles"
        )
    return limits, None


async def _read(call, **kwargs) -> tuple[dict | None, str | None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return await call(**kwargs), None
    except ClientError as exc:
        return None, exc.response.get("Error", {}).get("Code") or "an error"
    except BotoCoreError as exc:
        return None, type(exc).__name__


@dataclass
class _Args:
    profile: str | None
    endpoint_url: str | None
    command: str
