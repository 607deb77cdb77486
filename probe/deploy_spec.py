"""What `deploy` makes, as data: names, tags, the two policy documents and the code zip.

No AWS calls here, so the least-privilege promise can be read (and tested) in one place, and
probe/deploy.py is only the order of API calls.
"""

import base64
import hashlib
import io
import re
import zipfile
from importlib import resources

DEFAULT_NAME = "lambdascope-probe"
# The mark on everything deploy makes; destroy removes only what carries it.
TAG_KEY, TAG_VALUE = "lambdascope", "true"
TAGS = {TAG_KEY: TAG_VALUE}
# The embedded local Lambda's function carries this tag too: deploy and destroy then leave its
# code and configuration to the local Lambda (its profile) and make or remove only the rest.
LOCAL_TAG_KEY = "lambdascope-local"
LOCAL_TAGS = {**TAGS, LOCAL_TAG_KEY: "true"}
RUNTIME = "python3.13"
HANDLER = "handler.handler"
DESCRIPTION = "lambdascope probe: reports which execution environment served each request"
TIMEOUT_S = 10
ALIAS = "live"  # with --snapstart: the alias deploy points at the version it published
# Short retention: the probe's logs matter while you watch, not next month (and cost money).
LOG_RETENTION_DAYS = 1
# A path of our own makes our roles easy to list (`aws iam list-roles --path-prefix /lambdascope/`).
ROLE_PATH = "/lambdascope/"
LOGS_POLICY_NAME = "lambdascope-write-own-logs"
MEMORY_MIN, MEMORY_MAX = 128, 10240  # Lambda's limits (AWS-FACTS §4.4)
ARCHES = ("x86_64", "arm64")
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ROLE_NAME_MAX = 64
# Public URLs need two statements since October 2025 (AWS-FACTS §4.8, LDG urls-auth.md):
# InvokeFunctionUrl for the URL, and InvokeFunction limited to calls that came through the URL,
# so the Invoke API itself stays private.
PUBLIC_STATEMENTS = {
    "lambdascope-public-url": {
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    },
    "lambdascope-public-url-invoke": {
        "Action": "lambda:InvokeFunction",
        "Principal": "*",
        "InvokedViaFunctionUrl": True,
    },
}

# deploy --kinesis --shards: a sanity bound for a probe's logs (each shard bills by the hour). Here,
# with the pure spec, so the command line reads it without importing an AWS SDK.
SHARDS_MAX = 64


class DeployError(Exception):
    """A deploy/destroy problem the user can fix; the message is one line naming the fix."""


def is_local(tags) -> bool:
    """The function is the embedded local Lambda's own (Lambda tags, a dict)."""
    return (tags or {}).get(LOCAL_TAG_KEY) == "true"


def is_ours(tags):
    """Tags as a dict (Lambda, Logs) or a list of {Key, Value} (IAM)."""
    if isinstance(tags, list):
        tags = {t.get("Key"): t.get("Value") for t in tags}
    return (tags or {}).get(TAG_KEY) == TAG_VALUE


def validate(name, memory=MEMORY_MIN, arch=ARCHES[0]):
    if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name):
        raise DeployError(f"invalid --name {name!r}: use 1-64 letters, digits, '-' or '_' (a Lambda function name)")
    if not isinstance(memory, int) or not MEMORY_MIN <= memory <= MEMORY_MAX:
        raise DeployError(f"--memory must be {MEMORY_MIN}..{MEMORY_MAX} MB (got {memory})")
    if arch not in ARCHES:
        raise DeployError(f"--arch must be one of {', '.join(ARCHES)} (got {arch!r})")


def role_name(name, region):
    """One role per function *and region*: roles are account-wide but functions and log groups are
    regional, so a shared role's policy would be scoped to one region's group and destroying one
    region would break the other."""
    base = f"{name}-{region}"
    if len(base) <= _ROLE_NAME_MAX:
        return base
    # Too long for IAM: keep a readable prefix and a hash so two long names cannot collide.
    digest = hashlib.sha256(base.encode()).hexdigest()[:8]
    return f"{base[: _ROLE_NAME_MAX - 9]}-{digest}"


def log_group_name(name):
    return f"/aws/lambda/{name}"


def log_group_arn(partition, region, account, name):
    """The group's ARN with the `:*` suffix, which IAM needs to match the group's streams."""
    return f"arn:{partition}:logs:{region}:{account}:log-group:{log_group_name(name)}:*"


def arn_parts(arn):
    """(partition, account) of any ARN: `arn:PARTITION:service:region:ACCOUNT:...`."""
    parts = arn.split(":")
    return parts[1], parts[4]


def trust_policy():
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def logs_policy(group_arn):
    """Only writing to its own, pre-made group: no logs:CreateLogGroup (deploy makes the group, so a
    deleted group is not silently re-created without retention or tags), nothing else at all."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": group_arn,
            }
        ],
    }


# What the probe's zip holds: the handler and the host facts it shares with the extension layer,
# both at the zip's root (the handler imports `hostfacts` beside it there).
CODE_FILES = ("handler.py", "hostfacts.py")


def code_zip():
    """probe/handler.py and probe/hostfacts.py, at the root of a zip built in memory. Fixed
    timestamps and modes make the bytes (and so Lambda's CodeSha256) depend on the source alone:
    re-deploying unchanged code is then seen as unchanged and skipped."""
    return reproducible_zip({name: resources.files("probe").joinpath(name).read_bytes() for name in CODE_FILES})


def reproducible_zip(files, modes=None):
    """A zip of {name: bytes} in the given order, every entry dated 1980-01-01 and readable by the
    runtime's user (or the mode in `modes`, e.g. 0o755 for an extension that Lambda executes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (modes or {}).get(name, 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def code_sha256(data):
    """Lambda's CodeSha256: base64 of the zip's SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()
