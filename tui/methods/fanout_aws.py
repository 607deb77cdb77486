"""`run/watch --fan-out N` against a function on AWS: the loader `deploy --loader` made, and its
control bucket, found before anything starts.

GetFunction on `lambdascope-loader` gives its memory and CPU (what the cost line prices), the
function its role may invoke (its environment's LAMBDASCOPE_TARGET: a loader made for another
function would be denied every request, so that is refused here) and the control bucket
(LAMBDASCOPE_CONTROL_BUCKET). Then one PutObject of a placeholder under the run's key proves
the monitor may write the control object: without s3:PutObject the keys could not steer the
loaders nor `q` stop them (on AWS an invocation outlives its caller's connection), so a run
that cannot is refused in one line naming the actions, before any loader is invoked.
"""

from dataclasses import dataclass

from tui.core.errors import UserError

LOADER_ENV_BUCKET = "LAMBDASCOPE_CONTROL_BUCKET"  # probe/deploy_loader_spec.py sets both
LOADER_ENV_TARGET = "LAMBDASCOPE_TARGET"
# What the monitor calls for a fan-out on AWS (named whole when one is denied).
NEEDS = (
    "lambda:GetFunction",
    "lambda:InvokeFunction (on lambdascope-loader: InvokeWithResponseStream)",
    "s3:PutObject",
    "s3:DeleteObject",
)
MISSING = "no loader function (lambdascope-loader) in {region}: run `lambdascope deploy --loader` first"


@dataclass(frozen=True)
class Loader:
    memory_mb: int
    arch: str
    timeout_s: float | None
    bucket: str
    target: str | None


@dataclass
class _Args:
    profile: str | None
    endpoint_url: str | None
    command: str = "--fan-out"


async def find_loader(target) -> Loader:
    """The deployed loader for `target` (a Target on AWS), or a UserError naming the fix."""
    from botocore.exceptions import ClientError

    from tui.aws import clients
    from tui.aws.errors import aws_errors
    from tui.methods.fanout import LOADER_FUNCTION

    with aws_errors(_Args(target.profile, target.invoke_endpoint), needs=NEEDS):
        session = clients.make_session(target.profile, target.region)
        async with clients.client(
            session, "lambda", endpoint_url=target.invoke_endpoint, region=target.region, max_attempts=2
        ) as lam:
            try:
                found = await lam.get_function(FunctionName=LOADER_FUNCTION)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    raise UserError(MISSING.format(region=target.region)) from None
                raise
    cfg = found["Configuration"]
    env = (cfg.get("Environment") or {}).get("Variables") or {}
    bucket, made_for = env.get(LOADER_ENV_BUCKET), env.get(LOADER_ENV_TARGET)
    if not bucket:
        raise UserError(
            f"{LOADER_FUNCTION} in {target.region} has no control bucket in its environment "
            "(not made by lambdascope deploy --loader): run `lambdascope deploy --loader` again"
        )
    if made_for and made_for != target.function_name:
        raise UserError(
            f"{LOADER_FUNCTION} may invoke only {made_for} (its role says so), not {target.function_name}: "
            f"run `lambdascope deploy --loader --name {target.function_name}` to point it there"
        )
    arch = (cfg.get("Architectures") or ["x86_64"])[0]
    timeout = cfg.get("Timeout")
    return Loader(int(cfg.get("MemorySize") or 128), arch, float(timeout) if timeout else None, bucket, made_for)


async def control_for(target, loader: Loader):
    """The run's control object in the loader's bucket, its write proven (see the module doc)."""
    from tui.aws import clients
    from tui.aws.errors import aws_errors
    from tui.methods.fanout_control import ControlObject

    control = ControlObject(target.invoke_endpoint, target.region, loader.bucket, None, profile=target.profile)
    args = _Args(target.profile, target.invoke_endpoint)
    with aws_errors(args, needs=(f"s3:PutObject and s3:DeleteObject on arn:aws:s3:::{loader.bucket}/fan-out/*",)):
        session = clients.make_session(target.profile, target.region)
        async with clients.client(
            session, "s3", endpoint_url=target.invoke_endpoint, region=target.region, max_attempts=2
        ) as s3:
            # A placeholder no loader acts on (another run's id): FanOut.run writes generation 0 over it.
            await s3.put_object(Bucket=loader.bucket, Key=control.key, Body=b'{"run":"","gen":-1}')
    return control
