"""`deploy --loader`: the loader function a fan-out invokes (`lambdascope-loader`), and `destroy`'s
way back. Names, documents and the zip are data in probe/deploy_loader_spec.py.

Made, in this order, after the probe (its ARN is what the loader may invoke):
- the control bucket `lambdascope-control-<account>-<region>`: public access blocked, tagged
  lambdascope=true. The monitor writes one small object per run under `fan-out/` (PutObject,
  DeleteObject at the end) and every loader polls it (loadgen/loader/control.py);
- the loader's log group `/aws/lambda/lambdascope-loader` (1-day retention, tagged);
- its role (trust: lambda.amazonaws.com), tagged, with three inline policies and nothing else:
  write its own log group; lambda:InvokeFunction and lambda:InvokeFunctionUrl on the target
  function (and its versions and aliases); s3:GetObject on `fan-out/*` of the control bucket;
- the function: the zip, Lambda's python runtime of this interpreter on this machine's CPU,
  1,769 MB, 900 s, the wrapper that starts the streaming runtime loop, and in its environment and
  tags the control bucket and the target, which `run/watch --fan-out` read back (GetFunction).

One loader per region: deploying it for another --name points its role at that function instead.
Nothing untagged is changed or removed; both ways are idempotent.
"""

import json

from botocore.exceptions import ClientError

from probe.deploy_aws import ensure_inline_policy, error_code, get_function, get_log_group, get_role, ignore_missing
from probe.deploy_loader_spec import (
    CONTROL_POLICY_NAME,
    INVOKE_POLICY_NAME,
    LOADER_DESCRIPTION,
    LOADER_HANDLER,
    LOADER_MEMORY_MB,
    LOADER_NAME,
    LOADER_TIMEOUT_S,
    TAG_TARGET,
    control_bucket_name,
    control_policy,
    environment,
    invoke_policy,
    loader_runtime,
    loader_zip,
)
from probe.deploy_spec import (
    LOG_RETENTION_DAYS,
    LOGS_POLICY_NAME,
    ROLE_PATH,
    TAGS,
    DeployError,
    code_sha256,
    is_ours,
    log_group_arn,
    log_group_name,
    logs_policy,
    role_name,
    trust_policy,
)

# What the person deploying needs beyond plain deploy, named whole in an AccessDenied line.
NEEDS = (
    "s3:CreateBucket",
    "s3:PutBucketTagging",
    "s3:GetBucketTagging",
    "s3:PutBucketPublicAccessBlock",
    "s3:ListBucket",
    "s3:DeleteObject",
    "s3:DeleteBucket",
)


async def ensure_loader(aws, target, target_arn, partition, account):
    """Make or update the loader for `target` (the probe just deployed); returns (summary, changes)."""
    runtime, arch = loader_runtime()  # refused before anything is made
    code = loader_zip()
    bucket = control_bucket_name(account, aws.region)
    role = role_name(LOADER_NAME, aws.region)
    group = log_group_name(LOADER_NAME)
    existing_fn = await get_function(aws, LOADER_NAME)
    existing_role = await get_role(aws, role)
    existing_group = await get_log_group(aws, group)
    existing_bucket = await _bucket_tags(aws, bucket)
    for kind, ident, tags in (
        ("function", LOADER_NAME, existing_fn and existing_fn["Tags"]),
        ("IAM role", role, existing_role and existing_role[1]),
        ("log group", group, existing_group and existing_group[1]),
        ("S3 bucket", bucket, existing_bucket),
    ):
        if tags is not None and not is_ours(tags):
            raise DeployError(f"{kind} {ident} exists but is not tagged lambdascope=true: it is not lambdascope's")
    changes = {}
    changes["control_bucket"] = await _ensure_bucket(aws, bucket, existing_bucket)
    changes["loader_log_group"] = await _ensure_log_group(aws, group, existing_group)
    role_arn, changes["loader_role"] = await _ensure_role(aws, role, existing_role)
    group_arn = log_group_arn(partition, aws.region, account, LOADER_NAME)
    changes["loader_logs_policy"] = await ensure_inline_policy(aws, role, LOGS_POLICY_NAME, logs_policy(group_arn))
    changes["loader_invoke_policy"] = await ensure_inline_policy(
        aws, role, INVOKE_POLICY_NAME, invoke_policy(target_arn)
    )
    changes["loader_control_policy"] = await ensure_inline_policy(
        aws, role, CONTROL_POLICY_NAME, control_policy(partition, bucket)
    )
    config, changes["loader"] = await _ensure_function(
        aws, code, runtime, arch, role_arn, environment(bucket, target), target, existing_fn
    )
    summary = {
        "loader": LOADER_NAME,
        "loader_arn": config["FunctionArn"],
        "loader_runtime": runtime,
        "loader_arch": arch,
        "loader_memory_mb": LOADER_MEMORY_MB,
        "loader_timeout_s": LOADER_TIMEOUT_S,
        "loader_role": role,
        "loader_log_group": group,
        "loader_target": target,
        "control_bucket": bucket,
    }
    return summary, changes


async def destroy_loader(aws, target, removed, skipped):
    """The loader made for `target` (its tag says which): function, log group, role, and the
    control bucket, emptied first. Optional like the Kinesis channel: absent parts are not listed."""
    found = await get_function(aws, LOADER_NAME)
    if found is not None and not is_ours(found["Tags"]):
        skipped.append(f"function {LOADER_NAME}")
        return
    if found is not None and found["Tags"].get(TAG_TARGET) not in (None, target):
        other = found["Tags"][TAG_TARGET]
        skipped.append(f"function {LOADER_NAME} (it loads {other}: destroy --name {other} removes it)")
        return
    if found is not None:
        with ignore_missing("ResourceNotFoundException"):
            await aws.lam.delete_function(FunctionName=LOADER_NAME)
        removed.append(f"function {LOADER_NAME}")
    group = log_group_name(LOADER_NAME)
    found_group = await get_log_group(aws, group)
    if found_group is not None and not is_ours(found_group[1]):
        skipped.append(f"log group {group}")
    elif found_group is not None:
        with ignore_missing("ResourceNotFoundException"):
            await aws.logs.delete_log_group(logGroupName=group)
        removed.append(f"log group {group}")
    role = role_name(LOADER_NAME, aws.region)
    found_role = await get_role(aws, role)
    if found_role is not None and not is_ours(found_role[1]):
        skipped.append(f"IAM role {role}")
    elif found_role is not None:
        from probe.deploy_destroy import delete_role

        await delete_role(aws, role)
        removed.append(f"IAM role {role}")
    # Its name from the account (GetCallerIdentity needs no permission): found even when a
    # half-finished deploy made the bucket and nothing else.
    account = (await aws.sts.get_caller_identity())["Account"]
    bucket = control_bucket_name(account, aws.region)
    tags = await _bucket_tags(aws, bucket)
    if tags is not None and not is_ours(tags):
        skipped.append(f"S3 bucket {bucket}")
    elif tags is not None:
        await _empty_and_delete(aws, bucket)
        removed.append(f"S3 bucket {bucket} (emptied first)")


# ---- the control bucket -------------------------------------------------------------------------


async def _bucket_tags(aws, bucket):
    """The bucket's tags as a dict ({} when it has none), or None when it does not exist. A bucket
    of that name in another account answers 403: refused, since the name is ours to use."""
    try:
        await aws.s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return None
        if error_code(exc) in ("403", "AccessDenied"):
            raise DeployError(
                f"S3 bucket {bucket} exists and this identity may not read it (another account's, or "
                "s3:ListBucket is denied): allow s3:ListBucket on it, or delete that bucket"
            ) from None
        raise
    try:
        tag_set = (await aws.s3.get_bucket_tagging(Bucket=bucket)).get("TagSet", [])
    except ClientError as exc:
        if error_code(exc) != "NoSuchTagSet":
            raise
        tag_set = []
    return {t["Key"]: t["Value"] for t in tag_set}


async def _ensure_bucket(aws, bucket, existing):
    if existing is not None:
        return "unchanged"
    where = {} if aws.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": aws.region}}
    await aws.s3.create_bucket(Bucket=bucket, **where)
    await aws.s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    await aws.s3.put_bucket_tagging(
        Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in TAGS.items()]}
    )
    return "created"


async def _empty_and_delete(aws, bucket):
    paginator = aws.s3.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            await aws.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    with ignore_missing("NoSuchBucket"):
        await aws.s3.delete_bucket(Bucket=bucket)


# ---- log group, role, function ------------------------------------------------------------------


async def _ensure_log_group(aws, group, existing):
    if existing is None:
        await aws.logs.create_log_group(logGroupName=group, tags=dict(TAGS))
        await aws.logs.put_retention_policy(logGroupName=group, retentionInDays=LOG_RETENTION_DAYS)
        return "created"
    if existing[0].get("retentionInDays") == LOG_RETENTION_DAYS:
        return "unchanged"
    await aws.logs.put_retention_policy(logGroupName=group, retentionInDays=LOG_RETENTION_DAYS)
    return "updated"


async def _ensure_role(aws, role, existing):
    if existing is None:
        made = await aws.iam.create_role(
            RoleName=role,
            Path=ROLE_PATH,
            AssumeRolePolicyDocument=json.dumps(trust_policy()),
            Description="lambdascope loader: invokes the target, reads its control object, writes its own logs",
            Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
        )
        return made["Role"]["Arn"], "created"
    found = existing[0]
    current = found.get("AssumeRolePolicyDocument")
    if isinstance(current, str):
        current = json.loads(current)
    if current == trust_policy():
        return found["Arn"], "unchanged"
    await aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust_policy()))
    return found["Arn"], "updated"


async def _ensure_function(aws, code, runtime, arch, role_arn, env, target, existing):
    from probe.deploy import _wait_ready as wait_ready
    from probe.deploy import create_function_when_role_ready

    tags = {**TAGS, TAG_TARGET: target}
    settings = {
        "Runtime": runtime,
        "Role": role_arn,
        "Handler": LOADER_HANDLER,
        "Description": LOADER_DESCRIPTION,
        "Timeout": LOADER_TIMEOUT_S,
        "MemorySize": LOADER_MEMORY_MB,
    }
    if existing is None:
        await create_function_when_role_ready(
            aws.lam,
            FunctionName=LOADER_NAME,
            Code={"ZipFile": code},
            Architectures=[arch],
            Environment={"Variables": env},
            Tags=tags,
            **settings,
        )
        return await wait_ready(aws.lam, LOADER_NAME), "created"
    current = existing["Configuration"]
    updated = []
    if current.get("CodeSha256") != code_sha256(code) or current.get("Architectures", ["x86_64"]) != [arch]:
        await aws.lam.update_function_code(FunctionName=LOADER_NAME, ZipFile=code, Architectures=[arch])
        current = await wait_ready(aws.lam, LOADER_NAME)
        updated.append("code")
    diff = {k: v for k, v in settings.items() if current.get(k) != v}
    if ((current.get("Environment") or {}).get("Variables") or {}) != env:
        diff["Environment"] = {"Variables": env}
    if diff:
        await aws.lam.update_function_configuration(FunctionName=LOADER_NAME, **diff)
        current = await wait_ready(aws.lam, LOADER_NAME)
        updated.append("config")
    if existing["Tags"].get(TAG_TARGET) != target:
        await aws.lam.tag_resource(Resource=current["FunctionArn"], Tags=tags)
        updated.append("target")
    return current, f"updated ({', '.join(updated)})" if updated else "unchanged"
