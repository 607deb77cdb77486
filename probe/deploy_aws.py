"""The AWS side shared by deploy and destroy: one session's clients on one endpoint, and
read-only lookups of what already exists (with its tags, to tell ours from someone else's)."""

import contextlib
import json

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError

from probe.deploy_spec import DeployError

# A connect timeout well under botocore's 60 s default, so a wrong --endpoint-url fails fast.
_CONFIG = Config(
    connect_timeout=10,
    read_timeout=60,
    retries={"mode": "standard"},
    user_agent_extra="lambdascope",
)


def error_code(exc):
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def error_message(exc):
    return exc.response.get("Error", {}).get("Message", "") if isinstance(exc, ClientError) else ""


class AwsClients:
    """The clients (IAM, Lambda, Logs, Kinesis, S3, STS), all from one session and one endpoint.
    `credentials` (static keys) only for a local emulator: on AWS the standard chain is used."""

    def __init__(self, region, profile, endpoint_url, credentials=None):
        self.session = aioboto3.Session(profile_name=profile, region_name=region, **(credentials or {}))
        self.region = region or self.session.region_name
        if not self.region:
            raise DeployError("no AWS region: pass --region (e.g. us-east-1) or set AWS_DEFAULT_REGION")
        self.endpoint_url = endpoint_url
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self):
        try:
            for attr, service in (
                ("iam", "iam"),
                ("lam", "lambda"),
                ("logs", "logs"),
                ("kinesis", "kinesis"),
                ("s3", "s3"),
                ("sts", "sts"),
            ):
                client = self.session.client(
                    service, region_name=self.region, endpoint_url=self.endpoint_url, config=_CONFIG
                )
                setattr(self, attr, await self._stack.enter_async_context(client))
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc):
        await self._stack.aclose()


# ---- reading what exists ---------------------------------------------------------------------


async def get_function(aws, name):
    """GetFunction's answer (Configuration, Tags) or None."""
    try:
        found = await aws.lam.get_function(FunctionName=name)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    if "Tags" not in found:  # GetFunction omits Tags when empty on some paths; ask directly
        arn = found["Configuration"]["FunctionArn"]
        found["Tags"] = (await aws.lam.list_tags(Resource=arn)).get("Tags", {})
    return found


async def get_role(aws, role):
    """(Role, tags) or None."""
    try:
        found = (await aws.iam.get_role(RoleName=role))["Role"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    tags = (await aws.iam.list_role_tags(RoleName=role)).get("Tags", [])
    return found, tags


async def get_log_group(aws, group):
    """(group description, tags) or None. Describe matches by prefix, so find the exact name."""
    paginator = aws.logs.get_paginator("describe_log_groups")
    async for page in paginator.paginate(logGroupNamePrefix=group):
        for found in page.get("logGroups", []):
            if found["logGroupName"] == group:
                # Tag APIs want the ARN without the `:*` that `arn` carries.
                arn = found.get("logGroupArn") or found["arn"].removesuffix(":*")
                tags = (await aws.logs.list_tags_for_resource(resourceArn=arn)).get("tags", {})
                return found, tags
    return None


@contextlib.contextmanager
def ignore_missing(code):
    """Something already gone is what we wanted (destroy is idempotent, and may race itself)."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) != code:
            raise


async def ensure_inline_policy(aws, role: str, name: str, wanted: dict) -> str:
    """Role `role`'s inline policy `name` made `wanted`: "created", "updated" or "unchanged" (read
    first, so a deploy that changes nothing writes nothing)."""
    try:
        current = (await aws.iam.get_role_policy(RoleName=role, PolicyName=name))["PolicyDocument"]
        state = "updated"
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        current, state = None, "created"
    if isinstance(current, str):
        current = json.loads(current)
    if current == wanted:
        return "unchanged"
    await aws.iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(wanted))
    return state
