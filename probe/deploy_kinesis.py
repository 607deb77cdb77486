"""`deploy --kinesis`: a Kinesis data stream that CloudWatch Logs writes the function's log events
to, and `destroy`'s way back. The names and the two policy documents are data at the top, so
the least-privilege promise is read (and tested) in one place.

Made, in this order:
- the stream `<name>-logs`, provisioned, `shards` shards (1 by default; an existing stream keeps
  its count unless `shards` is given, then UpdateShardCount), tagged lambdascope=true;
- a role `logs.amazonaws.com` may assume only for these log groups of this account
  (`aws:SourceArn`, `aws:SourceAccount`: the confused-deputy guard the CloudWatch Logs guide
  recommends), whose one inline policy allows `kinesis:PutRecord` and `kinesis:PutRecords` on
  that stream and nothing else, tagged;
- a subscription filter `lambdascope-kinesis` (empty pattern: every event) on each log group:
  the function's, and a Managed Instances capacity provider's system log group when the caller
  knows it (the local Lambda's `lmi` profile does; `deploy` does not make capacity providers).
A subscription filter has no tags; it is ours by its name and its destination (our stream).

IAM is eventually consistent: PutSubscriptionFilter right after the role is made can fail while
CloudWatch Logs cannot yet assume it (it test-delivers to the stream), so that call is retried
as CreateFunction is. A new stream is CREATING for up to a minute; it is waited for.
Everything is idempotent, and nothing untagged (someone else's) is ever changed or removed.
"""

import asyncio
import json

from botocore.exceptions import ClientError

from probe.deploy_aws import ensure_inline_policy, error_code, error_message, ignore_missing
from probe.deploy_spec import ROLE_PATH, SHARDS_MAX, TAGS, DeployError, is_ours, role_name

FILTER_NAME = "lambdascope-kinesis"
PUT_POLICY_NAME = "lambdascope-put-log-records"
STREAM_READY_TIMEOUT_S = 120.0
STREAM_POLL_S = 1.0
# PutSubscriptionFilter while the new role propagates: about a minute in all. Tests shorten it.
FILTER_WAIT_DELAYS = (1, 2, 3, 5, 8, 10, 10, 10, 10)


def stream_name(name):
    return f"{name}-logs"


def kinesis_role_name(name, region):
    """Apart from the execution role: that one is Lambda's, this one CloudWatch Logs'."""
    return role_name(f"{name}-cwl", region)


def validate_shards(shards):
    if shards is not None and (not isinstance(shards, int) or not 1 <= shards <= SHARDS_MAX):
        raise DeployError(f"--shards must be 1..{SHARDS_MAX} (got {shards})")


def group_arns(partition, region, account, groups):
    """Each group's ARN as CloudWatch Logs names itself when it assumes the role, in both of the
    forms an ARN of a log group takes (with and without the trailing `:*`)."""
    out = []
    for group in groups:
        arn = f"arn:{partition}:logs:{region}:{account}:log-group:{group}"
        out += [arn, f"{arn}:*"]
    return out


def cwl_trust_policy(partition, region, account, groups):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringLike": {"aws:SourceArn": group_arns(partition, region, account, groups)},
                    "StringEquals": {"aws:SourceAccount": account},
                },
            }
        ],
    }


def put_records_policy(stream_arn):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PutLogRecords",
                "Effect": "Allow",
                "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
                "Resource": stream_arn,
            }
        ],
    }


async def ensure_kinesis(aws, name, groups, partition, account, shards=None):
    """Make or update the stream, the role and the subscription filters; returns (summary,
    changes). `groups` must exist (deploy makes the function's first)."""
    validate_shards(shards)
    stream = stream_name(name)
    role = kinesis_role_name(name, aws.region)
    existing_role = await _get_role(aws, role)
    existing_stream = await _get_stream(aws, stream)
    # Check both before changing anything, so a refusal leaves nothing half made.
    if existing_stream is not None and not is_ours(existing_stream[1]):
        raise DeployError(f"Kinesis stream {stream} exists but is not tagged lambdascope=true: pick another --name")
    if existing_role is not None and not is_ours(existing_role[1]):
        raise DeployError(f"IAM role {role} exists but is not tagged lambdascope=true: pick another --name")
    changes = {}
    stream_arn, count, changes["kinesis_stream"] = await _ensure_stream(aws, stream, existing_stream, shards)
    trust = cwl_trust_policy(partition, aws.region, account, groups)
    role_arn, changes["kinesis_role"] = await _ensure_role(aws, role, existing_role, trust)
    changes["kinesis_role_policy"] = await ensure_inline_policy(
        aws, role, PUT_POLICY_NAME, put_records_policy(stream_arn)
    )
    for group in groups:
        changes[f"subscription {group}"] = await _ensure_filter(aws, group, stream_arn, role_arn)
    summary = {
        "kinesis_stream": stream,
        "kinesis_stream_arn": stream_arn,
        "kinesis_shards": count,
        "kinesis_role": role,
        "kinesis_role_arn": role_arn,
        "subscription_filter": FILTER_NAME,
        "subscribed_log_groups": list(groups),
    }
    return summary, changes


async def destroy_kinesis(aws, name, groups, removed, skipped):
    """Subscription filters first (CloudWatch Logs stops writing), then the stream, then the role.
    The channel is optional, so its absent parts are not listed (a stack without it lacks nothing)."""
    stream = stream_name(name)
    found = await _get_stream(aws, stream)
    stream_arn = found[0]["StreamARN"] if found else None
    for group in groups:
        current = await _get_filter(aws, group)
        if current is None:
            continue
        if stream_arn is not None and current.get("destinationArn") != stream_arn:
            skipped.append(f"subscription filter {FILTER_NAME} on {group} (it writes elsewhere)")
            continue
        with ignore_missing("ResourceNotFoundException"):
            await aws.logs.delete_subscription_filter(logGroupName=group, filterName=FILTER_NAME)
        removed.append(f"subscription filter {FILTER_NAME} on {group}")
    if found is not None and not is_ours(found[1]):
        skipped.append(f"Kinesis stream {stream}")
    elif found is not None:
        with ignore_missing("ResourceNotFoundException"):
            await aws.kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)
        removed.append(f"Kinesis stream {stream}")
    role = kinesis_role_name(name, aws.region)
    found_role = await _get_role(aws, role)
    if found_role is not None and not is_ours(found_role[1]):
        skipped.append(f"IAM role {role}")
    elif found_role is not None:
        from probe.deploy_destroy import delete_role

        await delete_role(aws, role)
        removed.append(f"IAM role {role}")


# ---- the stream ---------------------------------------------------------------------------------


async def _get_stream(aws, stream):
    """(StreamDescriptionSummary, tags as a dict) or None."""
    try:
        summary = (await aws.kinesis.describe_stream_summary(StreamName=stream))["StreamDescriptionSummary"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    tags = (await aws.kinesis.list_tags_for_stream(StreamName=stream)).get("Tags", [])
    return summary, {t["Key"]: t.get("Value") for t in tags}


async def _ensure_stream(aws, stream, existing, shards):
    if existing is None:
        await aws.kinesis.create_stream(
            StreamName=stream, ShardCount=shards or 1, StreamModeDetails={"StreamMode": "PROVISIONED"}
        )
        summary = await _wait_active(aws, stream)
        await aws.kinesis.add_tags_to_stream(StreamName=stream, Tags=dict(TAGS))
        return summary["StreamARN"], summary.get("OpenShardCount", shards or 1), "created"
    summary = existing[0]
    count = summary.get("OpenShardCount")
    if shards is None or shards == count:
        return summary["StreamARN"], count, "unchanged"
    await aws.kinesis.update_shard_count(StreamName=stream, TargetShardCount=shards, ScalingType="UNIFORM_SCALING")
    summary = await _wait_active(aws, stream)
    return summary["StreamARN"], shards, f"updated ({count} → {shards} shards)"


async def _wait_active(aws, stream):
    deadline = asyncio.get_running_loop().time() + STREAM_READY_TIMEOUT_S
    while True:
        summary = (await aws.kinesis.describe_stream_summary(StreamName=stream))["StreamDescriptionSummary"]
        if summary.get("StreamStatus") == "ACTIVE":
            return summary
        if asyncio.get_running_loop().time() > deadline:
            raise DeployError(
                f"Kinesis stream {stream} is still {summary.get('StreamStatus')} after "
                f"{STREAM_READY_TIMEOUT_S:.0f} s: deploy again later"
            )
        await asyncio.sleep(STREAM_POLL_S)


# ---- the role -----------------------------------------------------------------------------------


async def _get_role(aws, role):
    try:
        found = (await aws.iam.get_role(RoleName=role))["Role"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    return found, (await aws.iam.list_role_tags(RoleName=role)).get("Tags", [])


async def _ensure_role(aws, role, existing, trust):
    if existing is None:
        made = await aws.iam.create_role(
            RoleName=role,
            Path=ROLE_PATH,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description="lambdascope: CloudWatch Logs writes the probe's log events to its Kinesis stream",
            Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
        )
        return made["Role"]["Arn"], "created"
    found = existing[0]
    current = found.get("AssumeRolePolicyDocument")
    if isinstance(current, str):
        current = json.loads(current)
    if current == trust:
        return found["Arn"], "unchanged"
    await aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))
    return found["Arn"], "updated"


# ---- the subscription filters -------------------------------------------------------------------


async def _get_filter(aws, group):
    try:
        resp = await aws.logs.describe_subscription_filters(logGroupName=group, filterNamePrefix=FILTER_NAME)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    return next((f for f in resp.get("subscriptionFilters", []) if f.get("filterName") == FILTER_NAME), None)


async def _ensure_filter(aws, group, stream_arn, role_arn):
    current = await _get_filter(aws, group)
    if current is not None and current.get("destinationArn") == stream_arn and current.get("roleArn") == role_arn:
        return "unchanged"
    for delay in (*FILTER_WAIT_DELAYS, None):
        try:
            await aws.logs.put_subscription_filter(
                logGroupName=group,
                filterName=FILTER_NAME,
                filterPattern="",
                destinationArn=stream_arn,
                roleArn=role_arn,
            )
            return "created" if current is None else "updated"
        except ClientError as exc:
            code = error_code(exc)
            if code == "LimitExceededException":
                raise DeployError(
                    f"log group {group} already has 2 subscription filters (CloudWatch Logs' limit): "
                    "remove one, then deploy --kinesis again"
                ) from None
            if code != "InvalidParameterException" or delay is None:
                if code == "InvalidParameterException":
                    raise DeployError(
                        f"CloudWatch Logs still cannot write to the stream ({error_message(exc)}) after "
                        f"{sum(FILTER_WAIT_DELAYS)} s (IAM is slow to propagate): "
                        "run deploy --kinesis again in a minute"
                    ) from None
                raise
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises


# ---- the local Lambda ---------------------------------------------------------------------------


async def ensure_local(local_lambda, shards=None):
    """The same channel on the local Lambda's moto, by the same code as `deploy --kinesis`: its
    function's log group and, for the `lmi` profile, the capacity provider's (both made by the
    log shippers at start). moto writes the records itself: its PutLogEvents delivers to a
    Kinesis subscription in CloudWatch Logs' format (moto/logs/models.py, moto 5.2.6)."""
    from probe.deploy_aws import AwsClients

    ll = local_lambda
    key, secret = ll.credentials
    groups = [ll.log_group] + ([ll.capacity_provider_log_group] if ll.capacity_provider_log_group else [])
    credentials = {"aws_access_key_id": key, "aws_secret_access_key": secret}
    async with AwsClients(ll.region, None, ll.moto.endpoint, credentials) as aws:
        summary, _ = await ensure_kinesis(aws, ll.function_name, groups, "aws", ll.config.account, shards)
    return summary
