"""Pick and open the log source for a target: Live Tail or polling, with the right client.

Live Tail is the default on AWS (pushed every second; AWS-FACTS §1.1), made complete by its own
FilterLogEvents backfill. Polling is the default on the local Lambda, whose fleets easily write
more than the 500 events/s at which Live Tail starts sampling, and the fallback anywhere
(`--logs poll`). Both read the same CloudWatch Logs API, local or not.

For a Managed Instances function the capacity provider's system log group
(`target.capacity_provider_log_group`) is read beside the function's, by the same source: one
Live Tail session over both groups, or one polling source with both windows. Its history reaches
CP_HISTORY_S back: the instances serving the run may have launched long before it.
"""

import logging
import time
from contextlib import AsyncExitStack, asynccontextmanager

from tui.aws.target import Target

log = logging.getLogger(__name__)

KINDS = ("auto", "livetail", "poll")
# Managed Instances rotate instances at least every 14 days (LANDSCAPE-2026.md §1.1, third-party):
# the launch of any instance still serving lies within this. A system log is a few records an
# instance, so one read of it is cheap.
CP_HISTORY_S = 15 * 86400
# The system log changes when instances do: on AWS it is polled every this many rounds of the
# function's (its 5 TPS budget is the account's); locally every round.
CP_POLL_EVERY_AWS = 5


def choose(kind: str, target: Target) -> str:
    if kind == "auto":
        return "poll" if target.kind == "local" else "livetail"
    return kind


@asynccontextmanager
async def open_source(target: Target, kind: str = "auto", start_ms: int | None = None, **poll_options):
    """A started LogSource for the target's log group; closed (and its client) on the way out.
    `poll_options` go to a PollSource (interval, keep_ids, now), as `run` needs them."""
    from tui.aws import clients as aws

    kind = choose(kind, target)
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
        if kind == "poll":
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


async def _group_arn(logs, name: str) -> str | None:
    """The group's ARN as Live Tail wants it (no trailing ':*'), or None while the group does not
    exist yet (Lambda creates it on the first write; the caller builds the ARN from the account)."""
    resp = await logs.describe_log_groups(logGroupNamePrefix=name)
    for group in resp.get("logGroups", ()):
        if group.get("logGroupName") == name:
            arn = group.get("logGroupArn") or group.get("arn", "")
            return arn[:-2] if arn.endswith(":*") else arn
    return None
