"""Pick and open the log source for a target: Live Tail, polling or Kinesis, with the right client.

Live Tail is the default on AWS (pushed every second; AWS-FACTS §1.1), made complete by its own
FilterLogEvents backfill. Polling is the default on the local Lambda, whose fleets easily write
more than the 500 events/s at which Live Tail starts sampling, and the fallback anywhere
(`--logs poll`). Both read the same CloudWatch Logs API, local or not.

Kinesis (`--logs kinesis`) reads the stream lambdascope's subscription filter writes to
(`deploy --kinesis`; on the embedded local Lambda it is set up on demand, in moto). `auto` picks
it whenever the function's log group has that subscription: it is the one channel that neither
samples nor spends the account's FilterLogEvents budget.

For a Managed Instances function the capacity provider's system log group
(`target.capacity_provider_log_group`) is read beside the function's, by the same source: one
Live Tail session over both groups, or one polling source with both windows. Its history reaches
CP_HISTORY_S back: the instances serving the run may have launched long before it.
"""

import logging
import time
from contextlib import AsyncExitStack, asynccontextmanager

from tui.aws.target import Target
from tui.core.errors import UserError

log = logging.getLogger(__name__)

KINDS = ("auto", "livetail", "poll", "kinesis")
# Managed Instances rotate instances at least every 14 days (LANDSCAPE-2026.md §1.1, third-party):
# the launch of any instance still serving lies within this. A system log is a few records an
# instance, so one read of it is cheap.
CP_HISTORY_S = 15 * 86400
# The system log changes when instances do: on AWS it is polled every this many rounds of the
# function's (its 5 TPS budget is the account's); locally every round.
CP_POLL_EVERY_AWS = 5


def choose(kind: str, target: Target, auto_default: str | None = None) -> str:
    """`auto` without a Kinesis subscription: `auto_default` if given (`run` polls: it must
    account for every invocation), else polling locally and Live Tail on AWS."""
    if kind == "auto":
        return auto_default or ("poll" if target.kind == "local" else "livetail")
    return kind


@asynccontextmanager
async def open_source(
    target: Target,
    kind: str = "auto",
    start_ms: int | None = None,
    *,
    auto_default: str | None = None,
    **poll_options,
):
    """A started LogSource for the target's log group; closed (and its client) on the way out.
    `poll_options` go to a PollSource (interval, keep_ids, now), as `run` needs them; a Kinesis
    source takes keep_ids (its de-dup memory, for the final sweep) and now."""
    from tui.aws import clients as aws

    kind_asked = kind
    # A second of slack: the first events can carry timestamps from just before we start.
    start_ms = int((time.time() - 1) * 1000) if start_ms is None else start_ms
    session = aws.make_session(target.profile, target.region)

    def client():
        # max_attempts=2: both sources own their retries (botocore's would hide a throttle).
        return aws.client(
            session,
            "logs",
            endpoint_url=target.logs_endpoint,
            credentials=target.local_credentials,
            region=target.region,
            max_attempts=2,
        )

    cp_group = getattr(target, "capacity_provider_log_group", None)
    cp_start = start_ms - CP_HISTORY_S * 1000
    async with AsyncExitStack() as stack:
        stream = None
        if kind_asked in ("auto", "kinesis"):
            from tui.aws.sources import kinesis_setup

            logs = await stack.enter_async_context(client())
            stream = await kinesis_setup.subscribed_stream(logs, target.log_group, strict=kind_asked == "kinesis")
            if stream is None and kind_asked == "kinesis":
                stream = await kinesis_setup.local_stream(target)  # the embedded local Lambda: made now
            if stream is None and kind_asked == "kinesis":
                raise UserError(kinesis_setup.not_subscribed(target))
        kind = "kinesis" if stream is not None else choose(kind_asked, target, auto_default)
        if kind == "kinesis":
            from tui.aws.sources import kinesis_setup

            kin = await stack.enter_async_context(
                aws.client(
                    session,
                    "kinesis",
                    endpoint_url=target.logs_endpoint,
                    credentials=target.local_credentials,
                    region=target.region,
                    max_attempts=2,
                )
            )
            source = await kinesis_setup.make_source(
                target, kin, logs, stream, start_ms, cp_group, **_kinesis_options(poll_options)
            )
        elif kind == "poll":
            from tui.aws.sources.poll import PollSource

            logs = await stack.enter_async_context(client())
            source = PollSource(
                logs,
                target.log_group,
                start_ms,
                budget_per_s=4.0 if target.kind == "local" else 2.0,
                extra_groups=[(cp_group, cp_start)] if cp_group else (),
                extra_every=1 if target.kind == "local" else CP_POLL_EVERY_AWS,
                **poll_options,
            )
        else:
            from tui.aws.sources.livetail import LiveTailSource

            async with client() as logs:
                arn = await _group_arn(logs, target.log_group)
                cp_arn = await _group_arn(logs, cp_group) if cp_group else None
            if arn is None:
                async with aws.client(
                    session,
                    "sts",
                    endpoint_url=target.logs_endpoint,
                    credentials=target.local_credentials,
                    region=target.region,
                    max_attempts=2,
                ) as sts:
                    account = (await sts.get_caller_identity())["Account"]
                arn = f"arn:aws:logs:{target.region}:{account}:log-group:{target.log_group}"
            # A session naming a group that does not exist fails whole, so the system log joins it
            # only when it exists (a capacity provider whose operator role may not write logs
            # never creates it: docs lambda-managed-instances-monitoring-cwl.md).
            if cp_group and cp_arn is None:
                log.warning("%s does not exist: no instance ids or AZs from the system log", cp_group)
            source = LiveTailSource(
                client,
                [arn, cp_arn] if cp_arn else arn,
                since_ms=start_ms,
                history={cp_group: cp_start} if cp_arn else None,
            )
        try:
            yield source
        finally:
            await source.close()


def _kinesis_options(poll_options: dict) -> dict:
    """What of `run`'s polling options a Kinesis source takes."""
    out = {}
    if "keep_ids" in poll_options:
        out["keep_ids"] = poll_options["keep_ids"]
    if "now" in poll_options:
        out["clock"] = poll_options["now"]
    return out


async def _group_arn(logs, name: str) -> str | None:
    """The group's ARN as Live Tail wants it (no trailing ':*'), or None while the group does not
    exist yet (Lambda creates it on the first write; the caller builds the ARN from the account)."""
    resp = await logs.describe_log_groups(logGroupNamePrefix=name)
    for group in resp.get("logGroups", ()):
        if group.get("logGroupName") == name:
            arn = group.get("logGroupArn") or group.get("arn", "")
            return arn[:-2] if arn.endswith(":*") else arn
    return None
