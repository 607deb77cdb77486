"""deploy --kinesis / destroy against moto's server (out of process, 127.0.0.1): the stream, the
role CloudWatch Logs assumes and the subscription filter are made, tagged and as narrow as
stated; re-deploying changes nothing; --shards reshards; destroy removes exactly them, twice
over; a stream that is not ours is never touched; and moto really delivers through what deploy
made (PutLogEvents → a gzip DATA_MESSAGE in the stream)."""

import gzip
import json
import time

import boto3
import pytest

from probe.deploy import deploy, destroy
from probe.deploy_kinesis import FILTER_NAME, PUT_POLICY_NAME, kinesis_role_name, stream_name
from probe.deploy_spec import DeployError
from tui.cli import main

NAME = "ls-kin-probe"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
GROUP = f"/aws/lambda/{NAME}"
STREAM = stream_name(NAME)
ROLE = kinesis_role_name(NAME, REGION)


def _c(endpoint, service):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def _as_list(value):
    return value if isinstance(value, list) else [value]


async def test_deploy_kinesis_makes_a_narrow_tagged_channel_that_moto_delivers_through(moto_endpoint, fake_aws_env):
    result = await deploy(name=NAME, endpoint_url=moto_endpoint, kinesis=True, shards=2)
    iam, kin, logs = _c(moto_endpoint, "iam"), _c(moto_endpoint, "kinesis"), _c(moto_endpoint, "logs")
    stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{STREAM}"
    assert result["kinesis_stream_arn"] == stream_arn and result["kinesis_shards"] == 2

    # The stream: provisioned, 2 shards, tagged.
    summary = kin.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE" and summary["OpenShardCount"] == 2
    assert kin.list_tags_for_stream(StreamName=STREAM)["Tags"] == [{"Key": "lambdascope", "Value": "true"}]

    # The role: only logs.amazonaws.com, only for this account and this log group.
    role = iam.get_role(RoleName=ROLE)["Role"]
    assert role["Arn"] == result["kinesis_role_arn"] and role["Path"] == "/lambdascope/"
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "logs.amazonaws.com"} and statement["Action"] == "sts:AssumeRole"
    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}"
    assert statement["Condition"] == {
        "StringLike": {"aws:SourceArn": [group_arn, f"{group_arn}:*"]},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    assert iam.list_role_tags(RoleName=ROLE)["Tags"] == [{"Key": "lambdascope", "Value": "true"}]
    # Its one policy: PutRecord(s) on that stream, nothing else.
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == [PUT_POLICY_NAME]
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    policy = iam.get_role_policy(RoleName=ROLE, PolicyName=PUT_POLICY_NAME)["PolicyDocument"]
    actions = set()
    for s in policy["Statement"]:
        assert s["Effect"] == "Allow" and _as_list(s["Resource"]) == [stream_arn] and "Condition" not in s
        actions |= set(_as_list(s["Action"]))
    assert actions == {"kinesis:PutRecord", "kinesis:PutRecords"}

    # The subscription filter: every event of the function's group, to the stream, as that role.
    (f,) = logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"]
    assert (f["filterName"], f["filterPattern"], f["destinationArn"], f["roleArn"]) == (
        FILTER_NAME,
        "",
        stream_arn,
        role["Arn"],
    )

    # And moto delivers through it, in CloudWatch Logs' format.
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
    # (A time inside the group's 1-day retention: moto drops older events, yet still sends a record.)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=GROUP, logStreamName="s", logEvents=[{"timestamp": now, "message": "hello"}])
    docs = []
    for shard in kin.list_shards(StreamName=STREAM)["Shards"]:
        it = kin.get_shard_iterator(StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        docs += [
            json.loads(gzip.decompress(r["Data"]))
            for r in kin.get_records(ShardIterator=it["ShardIterator"])["Records"]
        ]
    (doc,) = docs
    assert doc["messageType"] == "DATA_MESSAGE" and doc["logGroup"] == GROUP and doc["logStream"] == "s"
    assert [e["message"] for e in doc["logEvents"]] == ["hello"]


async def test_redeploy_is_unchanged_shards_reshard_and_destroy_removes_exactly_it(moto_endpoint, fake_aws_env):
    await deploy(name=NAME, endpoint_url=moto_endpoint, kinesis=True)
    await deploy(name="ls-other", endpoint_url=moto_endpoint, kinesis=True)  # a second stack, spared
    again = await deploy(name=NAME, endpoint_url=moto_endpoint, kinesis=True)
    assert set(again["changes"].values()) == {"unchanged"}
    more = await deploy(name=NAME, endpoint_url=moto_endpoint, kinesis=True, shards=3)
    assert more["changes"]["kinesis_stream"] == "updated (1 → 3 shards)"
    kin, iam, logs = _c(moto_endpoint, "kinesis"), _c(moto_endpoint, "iam"), _c(moto_endpoint, "logs")
    assert kin.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["OpenShardCount"] == 3

    gone = await destroy(name=NAME, endpoint_url=moto_endpoint)
    assert gone["removed"][:3] == [
        f"subscription filter {FILTER_NAME} on {GROUP}",
        f"Kinesis stream {STREAM}",
        f"IAM role {ROLE}",
    ]
    assert gone["skipped"] == []
    streams = kin.list_streams()["StreamNames"]
    assert STREAM not in streams and stream_name("ls-other") in streams
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert ROLE not in roles and kinesis_role_name("ls-other", REGION) in roles
    assert logs.describe_subscription_filters(logGroupName="/aws/lambda/ls-other")["subscriptionFilters"]

    twice = await destroy(name=NAME, endpoint_url=moto_endpoint)
    assert twice["removed"] == [] and twice["skipped"] == []


async def test_a_stream_that_is_not_ours_is_neither_used_nor_destroyed(moto_endpoint, fake_aws_env):
    kin = _c(moto_endpoint, "kinesis")
    kin.create_stream(StreamName=STREAM, ShardCount=1)
    with pytest.raises(DeployError, match="not tagged lambdascope=true"):
        await deploy(name=NAME, endpoint_url=moto_endpoint, kinesis=True)
    gone = await destroy(name=NAME, endpoint_url=moto_endpoint)
    assert f"Kinesis stream {STREAM}" in gone["skipped"]
    assert STREAM in kin.list_streams()["StreamNames"]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["deploy", "--shards", "2"], "--shards is the Kinesis stream's: give --kinesis too"),
        (["deploy", "--kinesis", "--shards", "0"], "--shards: must be 1..64 (got 0)"),
        (["deploy", "--kinesis", "--shards", "many"], "--shards: must be a whole number of shards"),
    ],
)
def test_cli_bad_shards_is_one_line(argv, expected, moto_endpoint, fake_aws_env, capsys):
    assert main([*argv, "--endpoint-url", moto_endpoint]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1


def test_cli_run_logs_kinesis_without_a_subscription_is_one_line(moto_endpoint, fake_aws_env, capsys):
    flags = ["--name", NAME, "--endpoint-url", moto_endpoint]
    assert main(["deploy", *flags]) == 0  # no --kinesis
    capsys.readouterr()
    code = main(["run", "--function", NAME, "--endpoint-url", moto_endpoint, "--logs", "kinesis", "--requests", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"has no lambdascope Kinesis subscription: run 'lambdascope deploy --kinesis --name {NAME}'" in err
