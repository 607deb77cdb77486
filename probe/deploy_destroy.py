"""Destroy what deploy made: the Kinesis channel (subscription filter, stream, its role: see
probe/deploy_kinesis.py), the fan-out's loader made for this function (probe/deploy_loader.py:
function, log group, role, control bucket), the function (with its URL and permissions), the log group and the
role, each only if tagged lambdascope=true. Absent things are fine, so running it twice is too."""

from probe.deploy_aws import AwsClients, get_function, get_log_group, get_role, ignore_missing
from probe.deploy_kinesis import destroy_kinesis
from probe.deploy_loader import destroy_loader
from probe.deploy_spec import DEFAULT_NAME, is_local, is_ours, log_group_name, role_name, validate


async def destroy(name=DEFAULT_NAME, region=None, profile=None, endpoint_url=None):
    """Remove what deploy made for `name` in `region`: function (with its URL and permissions),
    log group, role. Only tagged things; absent things are fine. Returns what happened to each."""
    validate(name)
    removed, absent, skipped = [], [], []
    async with AwsClients(region, profile, endpoint_url) as aws:
        role = role_name(name, aws.region)
        group = log_group_name(name)

        # The subscription first: CloudWatch Logs stops writing to the stream before it goes.
        await destroy_kinesis(aws, name, [group], removed, skipped)

        # Then the function: it stops writing logs and stops using the role.
        found = await get_function(aws, name)
        if found is None or not is_local(found["Tags"]):
            # The loader made for this function first: nothing is left invoking it.
            await destroy_loader(aws, name, removed, skipped)
        if found is not None and is_local(found["Tags"]):
            # The local Lambda's own function (and its log group): it stops with the local Lambda.
            kept = [f"function {name} and log group {group}: the local Lambda's own, gone when it stops"]
            return {
                "function": name,
                "region": aws.region,
                "removed": removed,
                "absent": absent,
                "skipped": skipped,
                "kept": kept,
            }
        if found is None:
            absent.append(f"function {name}")
        elif not is_ours(found["Tags"]):
            skipped.append(f"function {name}")
        else:
            with ignore_missing("ResourceNotFoundException"):
                await aws.lam.delete_function_url_config(FunctionName=name)
            with ignore_missing("ResourceNotFoundException"):
                await aws.lam.delete_function(FunctionName=name)
            removed.append(f"function {name} (with its URL and permissions)")

        found = await get_log_group(aws, group)
        if found is None:
            absent.append(f"log group {group}")
        elif not is_ours(found[1]):
            skipped.append(f"log group {group}")
        else:
            with ignore_missing("ResourceNotFoundException"):
                await aws.logs.delete_log_group(logGroupName=group)
            removed.append(f"log group {group}")

        found = await get_role(aws, role)
        if found is None:
            absent.append(f"IAM role {role}")
        elif not is_ours(found[1]):
            skipped.append(f"IAM role {role}")
        else:
            await delete_role(aws, role)
            removed.append(f"IAM role {role}")

    return {
        "function": name,
        "region": aws.region,
        "removed": removed,
        "absent": absent,
        "skipped": skipped,  # same name, but not tagged lambdascope=true: not ours, left alone
    }


async def delete_role(aws, role):
    # IAM refuses to delete a role that still has policies: inline ones go with it, attached
    # (managed) ones are only detached, never deleted (they may serve other roles).
    with ignore_missing("NoSuchEntity"):
        inline = (await aws.iam.list_role_policies(RoleName=role)).get("PolicyNames", [])
        for policy in inline:
            with ignore_missing("NoSuchEntity"):
                await aws.iam.delete_role_policy(RoleName=role, PolicyName=policy)
        attached = (await aws.iam.list_attached_role_policies(RoleName=role)).get("AttachedPolicies", [])
        for policy in attached:
            with ignore_missing("NoSuchEntity"):
                await aws.iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
        await aws.iam.delete_role(RoleName=role)
