"""Deploy the probe to AWS Lambda, and destroy it again.

`deploy` creates or updates, in this order: a least-privilege execution role, the function's log
group (short retention), the role's inline policy (write to that group only), the function (code
zipped in memory from probe/handler.py) and a function URL (AWS_IAM unless public). Everything is
tagged lambdascope=true. Running it again updates what changed and leaves the rest alone.

`destroy` removes exactly those things, and only when they carry the tag; missing things are fine.

With `snapstart=True` the function has SnapStart on published versions: deploy publishes a
version whenever the code or configuration changed (its snapshot is taken then), points the alias
`live` at it, and puts the function URL on that alias, so every request goes through a restored
environment (an unqualified invoke would reach $LATEST, which SnapStart never applies to).

Both refuse to touch a same-named resource without the tag: it is someone else's. Every AWS call
goes through the same session and `endpoint_url`, so a local emulator sees all of them.
Destroy lives in probe/deploy_destroy.py, the shared client and lookups in probe/deploy_aws.py,
and the names and documents in probe/deploy_spec.py; this module re-exports `destroy`.
Errors are DeployError (one line naming the fix) or botocore's own; the CLI turns both into lines.

What the person deploying needs (for a policy, or to read an AccessDenied):
  deploy:  iam:GetRole ListRoleTags CreateRole TagRole UpdateAssumeRolePolicy GetRolePolicy
           PutRolePolicy PassRole; lambda:GetFunction ListTags CreateFunction TagResource
           GetFunctionConfiguration UpdateFunctionCode UpdateFunctionConfiguration
           GetFunctionUrlConfig CreateFunctionUrlConfig UpdateFunctionUrlConfig GetPolicy
           AddPermission RemovePermission; logs:DescribeLogGroups ListTagsForResource
           CreateLogGroup TagResource PutRetentionPolicy;
           with --snapstart also lambda:PublishVersion ListVersionsByFunction GetAlias
           CreateAlias UpdateAlias;
           with --kinesis also kinesis:CreateStream DescribeStreamSummary ListTagsForStream
           AddTagsToStream UpdateShardCount; logs:DescribeSubscriptionFilters
           PutSubscriptionFilter; iam:PassRole on the CloudWatch Logs role
  destroy: the reads above, plus lambda:DeleteFunctionUrlConfig DeleteFunction;
           logs:DeleteLogGroup DescribeSubscriptionFilters DeleteSubscriptionFilter;
           kinesis:DescribeStreamSummary ListTagsForStream DeleteStream;
           iam:ListRolePolicies DeleteRolePolicy ListAttachedRolePolicies DetachRolePolicy DeleteRole
"""

import asyncio
import contextlib
import json

from botocore.exceptions import ClientError

from probe.deploy_aws import (
    AwsClients,
    ensure_inline_policy,
    error_code,
    error_message,
    get_function,
    get_log_group,
    get_role,
)
from probe.deploy_destroy import destroy  # noqa: F401  (part of this module's API)
from probe.deploy_kinesis import ensure_kinesis, validate_shards
from probe.deploy_loader import ensure_loader
from probe.deploy_loader_spec import loader_runtime
from probe.deploy_spec import (
    ALIAS,
    DEFAULT_NAME,
    DESCRIPTION,
    HANDLER,
    LOG_RETENTION_DAYS,
    LOGS_POLICY_NAME,
    PUBLIC_STATEMENTS,
    ROLE_PATH,
    RUNTIME,
    TAGS,
    TIMEOUT_S,
    DeployError,
    arn_parts,
    code_sha256,
    code_zip,
    is_local,
    is_ours,
    log_group_arn,
    log_group_name,
    logs_policy,
    role_name,
    trust_policy,
    validate,
)

# IAM is eventually consistent: a new role can take ~10 s before Lambda may assume it. Retry
# CreateFunction on exactly that error, about a minute in all, then say so. Tests shorten it.
ROLE_WAIT_DELAYS = (1, 2, 3, 5, 8, 10, 10, 10, 10)
# A function is Pending after create and InProgress after each update; the next update must wait.
READY_TIMEOUT_S = 180.0
READY_POLL_S = 1.0


def _refuse_foreign(kind, ident, tags):
    """`tags` is None when the thing does not exist (then there is nothing to refuse)."""
    if tags is not None and not is_ours(tags):
        raise DeployError(
            f"{kind} {ident} exists but is not tagged lambdascope=true, so it is not lambdascope's: pick another --name"
        )


# ---- deploy ----------------------------------------------------------------------------------


async def deploy(
    name=DEFAULT_NAME,
    memory=128,
    arch="x86_64",
    region=None,
    profile=None,
    endpoint_url=None,
    public=False,
    snapstart=False,
    kinesis=False,
    shards=None,
    loader=False,
):
    """Create or update the probe stack; returns a summary dict (no secrets in it). `kinesis`:
    also the log channel of probe/deploy_kinesis.py (`shards` shards; None keeps what exists).
    `loader`: also the fan-out's loader function and its control bucket (probe/deploy_loader.py),
    allowed to invoke this function only."""
    validate(name, memory, arch)
    validate_shards(shards)
    if loader:
        loader_runtime()  # a machine that cannot build the loader's zip is told before anything is made
    async with AwsClients(region, profile, endpoint_url) as aws:
        role = role_name(name, aws.region)
        group = log_group_name(name)
        existing_fn = await get_function(aws, name)
        if existing_fn is not None and is_local(existing_fn["Tags"]):
            if loader:
                raise DeployError(
                    "--loader: the local Lambda hosts its own loader (run/watch --fan-out use it): drop --loader"
                )
            return await _on_local(aws, name, existing_fn, snapstart, public, kinesis, shards)
        existing_role = await get_role(aws, role)
        existing_group = await get_log_group(aws, group)
        # Check all three before changing anything, so a refusal leaves nothing half made.
        _refuse_foreign("function", name, existing_fn and existing_fn["Tags"])
        _refuse_foreign("IAM role", role, existing_role and existing_role[1])
        _refuse_foreign("log group", group, existing_group and existing_group[1])

        changes = {}
        role_arn, changes["role"] = await _ensure_role(aws, role, existing_role)
        partition, account = arn_parts(role_arn)
        group_arn = log_group_arn(partition, aws.region, account, name)
        changes["log_group"] = await _ensure_log_group(aws, group, existing_group)
        changes["role_policy"] = await ensure_inline_policy(aws, role, LOGS_POLICY_NAME, logs_policy(group_arn))
        config, changes["function"] = await _ensure_function(aws, name, memory, arch, role_arn, existing_fn, snapstart)
        qualifier = version = None
        if snapstart:
            version, changes["version"] = await _ensure_version(aws.lam, name, config)
            changes["alias"] = await _ensure_alias(aws.lam, name, version)
            qualifier = ALIAS
        url, auth_type, changes["url"] = await _ensure_url(aws, name, public, qualifier)
        channel = {}
        if kinesis:
            channel, kinesis_changes = await ensure_kinesis(aws, name, [group], partition, account, shards)
            changes.update(kinesis_changes)
        fan_out = {}
        if loader:
            fan_out, loader_changes = await ensure_loader(aws, name, config["FunctionArn"], partition, account)
            changes.update(loader_changes)

    warnings = []
    if public:
        warnings.append(
            f"the function URL of {name} is public (AuthType NONE): anyone who has it can invoke "
            "the function and run up your bill; deploy again without --public to close it"
        )
    return {
        "function": name,
        "function_arn": config["FunctionArn"],
        "region": aws.region,
        "runtime": config.get("Runtime", RUNTIME),
        "memory_mb": memory,
        "arch": arch,
        "url": url,
        "auth_type": auth_type,
        "public": public,
        "snapstart": snapstart,
        "version": version,
        "alias": qualifier,
        "role": role,
        "role_arn": role_arn,
        "log_group": group,
        "log_retention_days": LOG_RETENTION_DAYS,
        "tags": dict(TAGS),
        "kinesis": kinesis,
        **channel,
        "loader": loader,
        **fan_out,
        "changes": changes,
        "warnings": warnings,
    }


async def _on_local(aws, name, found, snapstart, public, kinesis, shards):
    """`deploy --endpoint-url` at the embedded local Lambda: its function, code and log group are
    the local Lambda's own (its profile decides them), so only what is not the function is made,
    by the same code as on AWS: the Kinesis channel (stream, role, subscription filter)."""
    if snapstart or public:
        flag = "--snapstart" if snapstart else "--public"
        raise DeployError(
            f"{flag}: {name} at this endpoint is the local Lambda's own function, whose profile decides it "
            "(--profile-file snapstart, its function URL is always open): drop the flag"
        )
    config = found["Configuration"]
    partition, account = arn_parts(config["FunctionArn"])
    group = log_group_name(name)
    changes = {"function": "kept (the local Lambda's own)"}
    channel = {}
    if kinesis:
        channel, kinesis_changes = await ensure_kinesis(aws, name, [group], partition, account, shards)
        changes.update(kinesis_changes)
    try:
        url_config = await aws.lam.get_function_url_config(FunctionName=name)
    except ClientError:
        url_config = {}
    return {
        "function": name,
        "function_arn": config["FunctionArn"],
        "region": aws.region,
        "runtime": config.get("Runtime", RUNTIME),
        "memory_mb": config.get("MemorySize"),
        "arch": (config.get("Architectures") or ["x86_64"])[0],
        "url": url_config.get("FunctionUrl"),
        "auth_type": url_config.get("AuthType"),
        "public": url_config.get("AuthType") == "NONE",
        "snapstart": False,
        "version": None,
        "alias": None,
        "role": None,
        "role_arn": config.get("Role"),
        "log_group": group,
        "log_retention_days": None,
        "tags": dict(found["Tags"]),
        "kinesis": kinesis,
        "local": True,
        **channel,
        "changes": changes,
        "warnings": [],
    }


async def _ensure_role(aws, role, existing):
    if existing is None:
        made = await aws.iam.create_role(
            RoleName=role,
            Path=ROLE_PATH,
            AssumeRolePolicyDocument=json.dumps(trust_policy()),
            Description="lambdascope probe execution role: writes its own logs, nothing else",
            Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
        )
        return made["Role"]["Arn"], "created"
    found, _tags = existing
    # botocore decodes IAM's URL-encoded policy documents into dicts; be lenient if it did not.
    current = found.get("AssumeRolePolicyDocument")
    if isinstance(current, str):
        current = json.loads(current)
    if current == trust_policy():
        return found["Arn"], "unchanged"
    await aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust_policy()))
    return found["Arn"], "updated"


async def _ensure_log_group(aws, group, existing):
    if existing is None:
        await aws.logs.create_log_group(logGroupName=group, tags=dict(TAGS))
        state = "created"
    elif existing[0].get("retentionInDays") == LOG_RETENTION_DAYS:
        return "unchanged"
    else:
        state = "updated"
    await aws.logs.put_retention_policy(logGroupName=group, retentionInDays=LOG_RETENTION_DAYS)
    return state


def _snapstart(on):
    return {"ApplyOn": "PublishedVersions" if on else "None"}


async def _ensure_function(aws, name, memory, arch, role_arn, existing, snapstart=False):
    code = code_zip()
    extra = {"SnapStart": _snapstart(True)} if snapstart else {}
    if existing is None:
        await create_function_when_role_ready(
            aws.lam,
            FunctionName=name,
            Runtime=RUNTIME,
            Role=role_arn,
            Handler=HANDLER,
            Code={"ZipFile": code},
            Description=DESCRIPTION,
            Timeout=TIMEOUT_S,
            MemorySize=memory,
            Architectures=[arch],
            Tags=dict(TAGS),
            **extra,
        )
        return await _wait_ready(aws.lam, name), "created"

    current = existing["Configuration"]
    updated = []
    if current.get("CodeSha256") != code_sha256(code) or current.get("Architectures", ["x86_64"]) != [arch]:
        # The architecture can only change together with the code.
        await aws.lam.update_function_code(FunctionName=name, ZipFile=code, Architectures=[arch])
        current = await _wait_ready(aws.lam, name)
        updated.append("code")
    wanted = {
        "Runtime": RUNTIME,
        "Handler": HANDLER,
        "Role": role_arn,
        "MemorySize": memory,
        "Timeout": TIMEOUT_S,
        "Description": DESCRIPTION,
    }
    diff = {key: value for key, value in wanted.items() if current.get(key) != value}
    applied = (current.get("SnapStart") or {}).get("ApplyOn", "None")
    if applied != _snapstart(snapstart)["ApplyOn"]:
        diff["SnapStart"] = _snapstart(snapstart)
    if diff:
        await aws.lam.update_function_configuration(FunctionName=name, **diff)
        current = await _wait_ready(aws.lam, name)
        updated.append("config")
    return current, f"updated ({', '.join(updated)})" if updated else "unchanged"


async def create_function_when_role_ready(lam, **params):
    """CreateFunction, retried while IAM has not yet told Lambda about a new role."""
    for delay in (*ROLE_WAIT_DELAYS, None):
        try:
            return await lam.create_function(**params)
        except ClientError as exc:
            not_ready = error_code(exc) == "InvalidParameterValueException" and "cannot be assumed" in error_message(
                exc
            )
            if not not_ready:
                raise
            if delay is None:
                waited = sum(ROLE_WAIT_DELAYS)
                raise DeployError(
                    f"Lambda still cannot assume role {params.get('Role')} after {waited} s "
                    "(IAM is slow to propagate): run deploy again in a minute"
                ) from None
        await asyncio.sleep(delay)


async def _wait_ready(lam, name):
    """Poll until the function is Active and no update is in progress; returns its config."""
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
    while True:
        config = await lam.get_function_configuration(FunctionName=name)
        state = config.get("State", "Active")
        last = config.get("LastUpdateStatus", "Successful")
        if "Failed" in (state, last):
            reason = config.get("LastUpdateStatusReason") or config.get("StateReason") or "no reason given"
            raise DeployError(f"function {name} failed to deploy ({reason}): fix that and deploy again")
        if state == "Active" and last != "InProgress":
            return config
        if asyncio.get_running_loop().time() > deadline:
            raise DeployError(
                f"function {name} is still {state}/{last} after {READY_TIMEOUT_S:.0f} s: deploy again later"
            )
        await asyncio.sleep(READY_POLL_S)


async def _ensure_version(lam, name, config):
    """The newest published version if it has this exact code and configuration, else a new one
    (publishing is what takes a SnapStart snapshot). Returns (version, state)."""
    newest = None
    marker = None
    while True:
        kwargs = {"FunctionName": name, **({"Marker": marker} if marker else {})}
        page = await lam.list_versions_by_function(**kwargs)
        for v in page.get("Versions", []):
            if v.get("Version", "$LATEST") != "$LATEST" and (
                newest is None or int(v["Version"]) > int(newest["Version"])
            ):
                newest = v
        marker = page.get("NextMarker")
        if not marker:
            break
    same = ("CodeSha256", "Runtime", "Handler", "Role", "MemorySize", "Timeout", "Architectures")
    if (
        newest is not None
        and all(newest.get(k) == config.get(k) for k in same)
        and ((newest.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions")
    ):
        return newest["Version"], "unchanged"
    made = await lam.publish_version(
        FunctionName=name, CodeSha256=config.get("CodeSha256"), Description="lambdascope probe (SnapStart snapshot)"
    )
    await _wait_ready(lam, f"{name}:{made['Version']}")
    return made["Version"], "published"


async def _ensure_alias(lam, name, version):
    try:
        current = await lam.get_alias(FunctionName=name, Name=ALIAS)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        await lam.create_alias(
            FunctionName=name,
            Name=ALIAS,
            FunctionVersion=version,
            Description="lambdascope: the version deploy published last",
        )
        return "created"
    if current.get("FunctionVersion") == version:
        return "unchanged"
    await lam.update_alias(FunctionName=name, Name=ALIAS, FunctionVersion=version)
    return "updated"


async def _ensure_url(aws, name, public, qualifier=None):
    auth = "NONE" if public else "AWS_IAM"
    where = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
    try:
        current = await aws.lam.get_function_url_config(**where)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        current = None
    if current is None:
        made = await aws.lam.create_function_url_config(AuthType=auth, **where)
        url, state = made["FunctionUrl"], "created"
    elif current.get("AuthType") != auth:
        # Going private: this closes the URL at once; the permissions go right after.
        made = await aws.lam.update_function_url_config(AuthType=auth, **where)
        url, state = made.get("FunctionUrl", current["FunctionUrl"]), "updated"
    else:
        url, state = current["FunctionUrl"], "unchanged"
    await _sync_public_permissions(aws.lam, name, public, qualifier)
    return url, auth, state


async def _policy_sids(lam, name, qualifier=None):
    try:
        kwargs = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
        policy = (await lam.get_policy(**kwargs))["Policy"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":  # no resource policy at all
            return set()
        raise
    return {statement.get("Sid") for statement in json.loads(policy).get("Statement", [])}


async def _sync_public_permissions(lam, name, public, qualifier=None):
    """Public: add our two statements if missing. Private: remove them if present (a re-deploy
    without --public closes a URL an earlier --public opened). Other statements are left alone.
    A URL on an alias is authorised by the alias's own policy (Qualifier)."""
    where = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
    present = await _policy_sids(lam, name, qualifier) & set(PUBLIC_STATEMENTS)
    for sid, statement in PUBLIC_STATEMENTS.items():
        if public and sid not in present:
            try:
                await lam.add_permission(StatementId=sid, **where, **statement)
            except ClientError as exc:
                if error_code(exc) != "ResourceConflictException":  # added meanwhile: fine
                    raise
        elif not public and sid in present:
            with contextlib.suppress(ClientError):
                await lam.remove_permission(StatementId=sid, **where)
