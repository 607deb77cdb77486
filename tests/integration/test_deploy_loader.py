"""deploy --loader / destroy against moto's server (out of process, 127.0.0.1): the loader
function, its role (three narrow policies, nothing else), log group and control bucket are made
and tagged; re-deploying changes nothing; destroy removes exactly them (the bucket emptied
first), twice over; a foreign bucket is refused; and the zip holds exactly what the loader
imports and runs from it with no site-packages but the runtime's botocore."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from probe.deploy import deploy, destroy
from probe.deploy_loader_spec import (
    BUNDLED,
    CONTROL_POLICY_NAME,
    CONTROL_PREFIX,
    INVOKE_POLICY_NAME,
    LOADER_NAME,
    LOADGEN_MODULES,
    WRAPPER,
    control_bucket_name,
    loader_runtime,
    loader_zip,
    wheel_fits,
)
from probe.deploy_spec import LOGS_POLICY_NAME, DeployError, role_name
from tui.cli import main

NAME = "ls-fan-probe"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
BUCKET = control_bucket_name(ACCOUNT, REGION)
ROLE = role_name(LOADER_NAME, REGION)
LOADER_GROUP = f"/aws/lambda/{LOADER_NAME}"


def _c(endpoint, service):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _policy(iam, name):
    doc = iam.get_role_policy(RoleName=ROLE, PolicyName=name)["PolicyDocument"]
    (statement,) = doc["Statement"]
    assert statement["Effect"] == "Allow" and "Condition" not in statement
    return set(_as_list(statement["Action"])), _as_list(statement["Resource"])


async def test_deploy_loader_makes_a_narrow_tagged_loader_and_destroy_removes_it(moto_endpoint, fake_aws_env):
    result = await deploy(name=NAME, endpoint_url=moto_endpoint, loader=True)
    iam, lam, logs, s3 = (_c(moto_endpoint, s) for s in ("iam", "lambda", "logs", "s3"))
    probe_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{NAME}"
    assert result["loader"] == LOADER_NAME and result["control_bucket"] == BUCKET
    assert result["loader_target"] == NAME

    # The function: runtime of this interpreter, 1,769 MB, 900 s, the streaming wrapper, where its bucket is.
    fn = lam.get_function(FunctionName=LOADER_NAME)
    cfg = fn["Configuration"]
    runtime, arch = loader_runtime()
    assert (cfg["Runtime"], cfg["Architectures"], cfg["MemorySize"], cfg["Timeout"]) == (runtime, [arch], 1769, 900)
    assert cfg["Handler"] == "loadgen.loader.handler.handler"
    assert cfg["Environment"]["Variables"] == {
        "AWS_LAMBDA_EXEC_WRAPPER": f"/var/task/{WRAPPER}",
        "LAMBDASCOPE_CONTROL_BUCKET": BUCKET,
        "LAMBDASCOPE_TARGET": NAME,
    }
    assert fn["Tags"] == {"lambdascope": "true", "lambdascope-loader-target": NAME}

    # The role: Lambda's, tagged, exactly three inline policies, none attached.
    role = iam.get_role(RoleName=ROLE)["Role"]
    assert cfg["Role"] == role["Arn"] and role["Path"] == "/lambdascope/"
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert iam.list_role_tags(RoleName=ROLE)["Tags"] == [{"Key": "lambdascope", "Value": "true"}]
    assert sorted(iam.list_role_policies(RoleName=ROLE)["PolicyNames"]) == sorted(
        [LOGS_POLICY_NAME, INVOKE_POLICY_NAME, CONTROL_POLICY_NAME]
    )
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    assert _policy(iam, LOGS_POLICY_NAME) == (
        {"logs:CreateLogStream", "logs:PutLogEvents"},
        [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOADER_GROUP}:*"],
    )
    assert _policy(iam, INVOKE_POLICY_NAME) == (
        {"lambda:InvokeFunction", "lambda:InvokeFunctionUrl"},
        [probe_arn, f"{probe_arn}:*"],
    )
    assert _policy(iam, CONTROL_POLICY_NAME) == ({"s3:GetObject"}, [f"arn:aws:s3:::{BUCKET}/{CONTROL_PREFIX}*"])
    # The monitor's control objects go under exactly that prefix.
    from tui.methods.fanout import LOADER_FUNCTION
    from tui.methods.fanout_control import ControlObject

    assert LOADER_FUNCTION == LOADER_NAME
    assert ControlObject(None, REGION, BUCKET, None).key.startswith(CONTROL_PREFIX)

    # Its log group (1 day, tagged) and the bucket (tagged, no public access).
    (group,) = logs.describe_log_groups(logGroupNamePrefix=LOADER_GROUP)["logGroups"]
    assert group["retentionInDays"] == 1
    assert s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"] == [{"Key": "lambdascope", "Value": "true"}]
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())

    # Again: nothing changes.
    again = await deploy(name=NAME, endpoint_url=moto_endpoint, loader=True)
    assert {k: v for k, v in again["changes"].items() if k.startswith(("loader", "control"))} == {
        "control_bucket": "unchanged",
        "loader_log_group": "unchanged",
        "loader_role": "unchanged",
        "loader_logs_policy": "unchanged",
        "loader_invoke_policy": "unchanged",
        "loader_control_policy": "unchanged",
        "loader": "unchanged",
    }

    # destroy: the bucket goes even with a run's object left in it; everything of the loader goes.
    s3.put_object(Bucket=BUCKET, Key=f"{CONTROL_PREFIX}left.json", Body=b"{}")
    gone = await destroy(name=NAME, endpoint_url=moto_endpoint)
    for thing in (
        f"function {LOADER_NAME}",
        f"log group {LOADER_GROUP}",
        f"IAM role {ROLE}",
        f"S3 bucket {BUCKET} (emptied first)",
    ):
        assert thing in gone["removed"]
    assert BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert LOADER_NAME not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert ROLE not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    twice = await destroy(name=NAME, endpoint_url=moto_endpoint)
    assert twice["removed"] == [] and twice["skipped"] == []


async def test_a_foreign_control_bucket_is_refused_and_left_alone(moto_endpoint, fake_aws_env):
    s3 = _c(moto_endpoint, "s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="theirs.txt", Body=b"x")
    with pytest.raises(DeployError, match=f"S3 bucket {BUCKET} exists but is not tagged"):
        await deploy(name=NAME, endpoint_url=moto_endpoint, loader=True)
    # Refused before the loader's parts were made (the probe's own stack is made first).
    assert LOADER_NAME not in [f["FunctionName"] for f in _c(moto_endpoint, "lambda").list_functions()["Functions"]]
    gone = await destroy(name=NAME, endpoint_url=moto_endpoint)
    assert f"S3 bucket {BUCKET}" in gone["skipped"]
    assert s3.get_object(Bucket=BUCKET, Key="theirs.txt")["Body"].read() == b"x"


def test_cli_deploy_loader_prints_the_fan_out_command(moto_endpoint, fake_aws_env, capsys):
    flags = ["--name", NAME, "--endpoint-url", moto_endpoint]
    assert main(["deploy", *flags, "--loader"]) == 0
    out = capsys.readouterr().out
    assert f'"control_bucket": "{BUCKET}"' in out and "--fan-out 4" in out
    assert fake_aws_env not in out
    assert main(["destroy", *flags]) == 0


def test_the_loader_zip_is_reproducible_and_holds_what_the_loader_imports(tmp_path):
    """Importing the loader's modules loads exactly LOADGEN_MODULES of loadgen, and third-party
    packages only from BUNDLED (or botocore and its requirements, which Lambda's runtime has);
    the zip, unpacked with no site-packages but botocore's, imports the handler and its runtime."""
    data = loader_zip()
    assert data == loader_zip()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == sorted(names) and WRAPPER in names
    assert {f"loadgen/{m}.py" for m in LOADGEN_MODULES} == {n for n in names if n.startswith("loadgen/")}
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(WRAPPER)
    assert info.external_attr >> 16 == 0o755

    probe = (
        "import sys, json, importlib.metadata as md\n"
        "import loadgen.loader.handler, loadgen.loader.bootstrap, loadgen.signing, aiohttp\n"
        "pk = md.packages_distributions()\n"
        "mods = sorted(m for m in sys.modules if m.startswith('loadgen'))\n"
        "dists = sorted({d for m in list(sys.modules) for d in (pk.get(m.split('.')[0]) or [])})\n"
        "print(json.dumps([mods, dists]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    mods, dists = json.loads(out)
    assert sorted(m.replace(".", "/") for m in mods) == sorted(
        "loadgen" if m == "__init__" else "loadgen/" + m.removesuffix("/__init__") for m in LOADGEN_MODULES
    )
    runtime_has = {"botocore", "jmespath", "python-dateutil", "six", "urllib3", "certifi", "setuptools", "lambdascope"}
    assert set(dists) - runtime_has <= set(BUNDLED)

    task = tmp_path / "task"
    zipfile.ZipFile(io.BytesIO(data)).extractall(task)
    runtime = tmp_path / "runtime"  # what Lambda's Python runtime brings: botocore and its requirements
    runtime.mkdir()
    import botocore
    import dateutil
    import jmespath
    import six
    import urllib3

    for mod in (botocore, dateutil, jmespath, urllib3):
        (runtime / Path(mod.__file__).parent.name).symlink_to(Path(mod.__file__).parent)
    (runtime / "six.py").symlink_to(six.__file__)
    check = "import loadgen.loader.handler, loadgen.loader.bootstrap, aiohttp, hdrh.histogram; print('ok')"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{task}:{runtime}"}
    done = subprocess.run([sys.executable, "-S", "-c", check], capture_output=True, text=True, env=env, cwd=task)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


@pytest.mark.parametrize(
    ("tags", "glibc", "machine", "fits"),
    [
        (["py3-none-any"], (2, 26), "x86_64", True),
        (["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux_2_28_x86_64"], (2, 26), "x86_64", True),
        (["cp311-cp311-manylinux_2_28_x86_64"], (2, 26), "x86_64", False),
        (["cp311-cp311-manylinux_2_28_x86_64"], (2, 34), "x86_64", True),
        (["cp311-cp311-manylinux2014_aarch64"], (2, 26), "x86_64", False),
        (["cp311-cp311-linux_x86_64"], (2, 34), "x86_64", False),
    ],
)
def test_a_wheel_fits_a_lambda_runtime_only_by_its_glibc_and_cpu(tags, glibc, machine, fits):
    assert wheel_fits(tags, glibc, machine) is fits


def test_a_machine_no_lambda_runtime_matches_is_refused_in_one_line():
    with pytest.raises(DeployError, match="Linux x86_64 or aarch64"):
        loader_runtime((3, 11), "darwin", "arm64")
    with pytest.raises(DeployError, match="this is 3.9"):
        loader_runtime((3, 9), "linux", "x86_64")
    assert loader_runtime((3, 12), "linux", "aarch64") == ("python3.12", "arm64")


# ---- run/watch --fan-out on AWS: the loader and its control bucket found, through the real path ----


def _watch_args(fan_out=2):
    from tui.cli import build_parser

    return build_parser().parse_args(["watch", "--function", NAME, "--fan-out", str(fan_out)])


def test_run_fan_out_on_aws_without_a_loader_is_one_line(moto_endpoint, fake_aws_env, capsys):
    import asyncio

    asyncio.run(deploy(name=NAME, endpoint_url=moto_endpoint))  # the probe, no loader
    argv = ["run", "--function", NAME, "--endpoint-url", moto_endpoint, "--fan-out", "2", "--requests", "4"]
    assert main([*argv, "--concurrency", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    said = f"no loader function (lambdascope-loader) in {REGION}: run `lambdascope deploy --loader` first"
    assert err[-1] == f"lambdascope: error: {said}"
    assert fake_aws_env not in "\n".join(err)


async def test_watch_fan_out_on_aws_finds_the_loader_and_steers_through_its_bucket(moto_endpoint, fake_aws_env):
    """What watch --fan-out does on AWS up to invoking the loaders (moto runs no function without
    docker): the loader found by GetFunction, the quota and cost line, the control object written
    in deploy --loader's bucket, a key's change written over it, and the object gone at the end."""
    from loadgen.plan import Plan
    from tui.aws.aws_target import aws_target
    from tui.commands.watch import _fan_out_load

    await deploy(name=NAME, endpoint_url=moto_endpoint, loader=True)
    s3 = _c(moto_endpoint, "s3")
    async with aws_target(NAME, endpoint_url=moto_endpoint) as target:
        notes = []
        load = await _fan_out_load(_watch_args(), target, Plan(mode="closed", level=4), notes)
    control = load.fan.control
    assert control.bucket == BUCKET and control.key.startswith(CONTROL_PREFIX)
    # The loaders get no key of ours: on Lambda they read it with their own role.
    assert "keys" not in control.spec() and control.spec()["url"] == f"{moto_endpoint}/{BUCKET}/{control.key}"
    # The placeholder proves the write before any loader starts; no loader acts on it.
    placeholder = json.loads(s3.get_object(Bucket=BUCKET, Key=control.key)["Body"].read())
    assert placeholder["run"] != control.run_id
    (line,) = notes
    assert "2 loaders" in line and "loaders' cost: 2 x 1.728 GB = 3.5 GB-s per second of load" in line
    assert "$0.0000166667/GB-s (x86_64, us-east-1 list price" in line

    # A --profile of this machine never reaches a loader: on Lambda it signs as its own role.
    load.fan.target.profile = "my-sso-profile"
    share = load.fan.share_event(load.fan.states[0], 0.0)
    assert "profile" not in share["target"] and share["control"] == control.spec()

    await control.open({"run": control.run_id, "gen": 0, "plan": Plan(mode="closed", level=4).to_dict()})
    load.fan._tasks = [object()]  # as if the loaders were running: apply needs one alive
    load.apply(Plan(mode="closed", level=6))
    await control.flush(timeout=60)  # bounded; a busy machine's PutObject can take seconds
    doc = json.loads(s3.get_object(Bucket=BUCKET, Key=control.key)["Body"].read())
    assert (doc["run"], doc["gen"], doc["plan"]["level"]) == (control.run_id, 1, 6)
    await control.close()
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0 and control.error is None


async def test_a_loader_made_for_another_function_is_refused(moto_endpoint, fake_aws_env):
    from loadgen.plan import Plan
    from tests.integration.aws_fixtures import create_function
    from tui.aws.aws_target import aws_target
    from tui.commands.watch import _fan_out_load
    from tui.core.errors import UserError

    await deploy(name=NAME, endpoint_url=moto_endpoint, loader=True)
    create_function(moto_endpoint, "someone-else")
    async with aws_target("someone-else", endpoint_url=moto_endpoint) as target:
        with pytest.raises(UserError, match=f"may invoke only {NAME} .*, not someone-else"):
            await _fan_out_load(_watch_args(), target, Plan(mode="closed", level=4), [])
