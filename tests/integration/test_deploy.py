"""deploy/destroy against moto's server (out of process, 127.0.0.1): what gets made, that it is
least-privilege and tagged, that re-deploying updates in place, that destroy removes exactly it,
and that the CLI answers every failure with one line and never shows a credential.

Nothing here can reach AWS: every call carries --endpoint-url to the local moto server, and the
environment holds fake keys and empty AWS config files.
"""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

import probe.deploy as deploy_module
from probe.deploy import create_function_when_role_ready, deploy, destroy
from probe.deploy_spec import (
    LOGS_POLICY_NAME,
    TAGS,
    DeployError,
    code_sha256,
    code_zip,
    role_name,
)
from probe.local.hosts import HostSpec, materialize
from probe.local.procs import free_port
from tests.integration.conftest import FAKE_ACCESS_KEY
from tui.aws.errors import explain
from tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
NAME = "ls-test-probe"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
GROUP = f"/aws/lambda/{NAME}"
PUBLIC_SIDS = set(deploy_module.PUBLIC_STATEMENTS)


def _clients(endpoint):
    """Plain boto3 clients for looking at what deploy left behind (credentials from the env)."""
    return [boto3.client(s, region_name=REGION, endpoint_url=endpoint) for s in ("iam", "lambda", "logs")]


def _log_group(logs, name=GROUP):
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((g for g in groups if g["logGroupName"] == name), None)


def _policy_statements(lam, name=NAME):
    try:
        return json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
    except lam.exceptions.ResourceNotFoundException:
        return []


def _as_list(value):
    return value if isinstance(value, list) else [value]


# ---- deploy ------------------------------------------------------------------------------------


async def test_deploy_makes_a_least_privilege_tagged_stack(moto_endpoint, fake_aws_env):
    result = await deploy(name=NAME, endpoint_url=moto_endpoint)
    iam, lam, logs = _clients(moto_endpoint)

    # Role: trusted by Lambda only, one inline policy with the two log actions on its own group.
    role = iam.get_role(RoleName=result["role"])["Role"]
    assert role["Path"] == "/lambdascope/" and role["Arn"] == result["role_arn"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert iam.list_role_policies(RoleName=result["role"])["PolicyNames"] == [LOGS_POLICY_NAME]
    assert iam.list_attached_role_policies(RoleName=result["role"])["AttachedPolicies"] == []
    policy = iam.get_role_policy(RoleName=result["role"], PolicyName=LOGS_POLICY_NAME)["PolicyDocument"]
    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*"
    actions = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert _as_list(statement["Resource"]) == [group_arn]
        actions |= set(_as_list(statement["Action"]))
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"}

    # Function: the probe's code, on a current Python runtime, with that role.
    fn = lam.get_function(FunctionName=NAME)
    config = fn["Configuration"]
    assert config["Handler"] == "handler.handler"
    major, minor = config["Runtime"].removeprefix("python").split(".")
    assert (int(major), int(minor)) >= (3, 12)
    assert config["MemorySize"] == 128 and config["Architectures"] == ["x86_64"]
    assert config["Role"] == result["role_arn"]
    assert config["CodeSha256"] == code_sha256(code_zip())

    # Log group: made by deploy, short retention.
    group = _log_group(logs)
    assert group is not None and group["retentionInDays"] == 1

    # Tags on all three.
    assert fn["Tags"] == TAGS
    assert iam.list_role_tags(RoleName=result["role"])["Tags"] == [{"Key": "lambdascope", "Value": "true"}]
    assert logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"] == TAGS

    # URL: IAM-authenticated, and no public statement in the resource policy.
    url = lam.get_function_url_config(FunctionName=NAME)
    assert url["AuthType"] == "AWS_IAM" and result["auth_type"] == "AWS_IAM"
    assert result["url"] == url["FunctionUrl"]
    assert _policy_statements(lam) == []
    assert result["warnings"] == [] and result["public"] is False
    assert set(result["changes"].values()) == {"created"}


async def test_redeploy_updates_in_place_and_public_toggles(moto_endpoint, fake_aws_env):
    first = await deploy(name=NAME, endpoint_url=moto_endpoint)
    again = await deploy(name=NAME, endpoint_url=moto_endpoint)
    assert set(again["changes"].values()) == {"unchanged"}
    assert again["url"] == first["url"] and again["function_arn"] == first["function_arn"]

    _, lam, _ = _clients(moto_endpoint)
    public = await deploy(name=NAME, memory=256, endpoint_url=moto_endpoint, public=True)
    assert public["changes"]["function"] == "updated (config)"
    assert lam.get_function_configuration(FunctionName=NAME)["MemorySize"] == 256
    assert lam.get_function_url_config(FunctionName=NAME)["AuthType"] == "NONE"
    assert public["url"] == first["url"]  # updated, not replaced
    assert public["warnings"] and "public" in public["warnings"][0]
    statements = {s["Sid"]: s for s in _policy_statements(lam)}
    assert set(statements) == PUBLIC_SIDS
    url_statement = statements["lambdascope-public-url"]
    assert url_statement["Action"] == "lambda:InvokeFunctionUrl" and url_statement["Principal"] == "*"
    assert url_statement["FunctionUrlAuthType"] == "NONE"
    assert statements["lambdascope-public-url-invoke"]["Action"] == "lambda:InvokeFunction"

    # Public twice does not duplicate the statements.
    await deploy(name=NAME, memory=256, endpoint_url=moto_endpoint, public=True)
    assert sorted(s["Sid"] for s in _policy_statements(lam)) == sorted(PUBLIC_SIDS)

    # Deploying without --public closes it again.
    private = await deploy(name=NAME, memory=256, endpoint_url=moto_endpoint)
    assert lam.get_function_url_config(FunctionName=NAME)["AuthType"] == "AWS_IAM"
    assert _policy_statements(lam) == []
    assert private["warnings"] == []


class _Recorder:
    """A pass-through to moto that keeps each request's method, path, query and JSON body: moto
    accepts SnapStart but does not store it, so the wire is where deploy's request is checked."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.calls = []

    async def __aenter__(self):
        import aiohttp
        from aiohttp import web

        self._http = aiohttp.ClientSession(auto_decompress=False)

        async def forward(request):
            body = await request.read()
            try:
                doc = json.loads(body) if body else None
            except ValueError:
                doc = None
            self.calls.append((request.method, request.path, dict(request.query), doc))
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            async with self._http.request(
                request.method, self.upstream + request.path_qs, headers=headers, data=body
            ) as up:
                data = await up.read()
                keep = {
                    k: v
                    for k, v in up.headers.items()
                    if k.lower() not in ("content-length", "transfer-encoding", "connection")
                }
                return web.Response(status=up.status, body=data, headers=keep)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc):
        await self._http.close()
        await self._runner.cleanup()

    def lambda_calls(self, method, suffix):
        return [c for c in self.calls if c[0] == method and c[1].endswith(suffix)]


async def test_snapstart_publishes_a_version_behind_an_alias_with_the_url(moto_endpoint, fake_aws_env):
    async with _Recorder(moto_endpoint) as rec:
        first = await deploy(name=NAME, endpoint_url=rec.url, snapstart=True)
        (create,) = rec.lambda_calls("POST", "/2015-03-31/functions")
        assert create[3]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        assert len(rec.lambda_calls("POST", f"/functions/{NAME}/versions")) == 1
        bigger = await deploy(name=NAME, memory=256, endpoint_url=rec.url, snapstart=True, public=True)
    _, lam, _ = _clients(moto_endpoint)
    assert first["snapstart"] is True and first["alias"] == "live"
    assert first["changes"]["version"] == "published" and first["changes"]["alias"] == "created"
    version = lam.get_function_configuration(FunctionName=NAME, Qualifier=first["version"])
    assert version["CodeSha256"] == code_sha256(code_zip()) and first["version"] != "$LATEST"
    # A new configuration is a new version (a new snapshot); the alias follows it.
    assert bigger["changes"]["version"] == "published" and bigger["changes"]["alias"] == "updated"
    assert int(bigger["version"]) > int(first["version"])
    assert lam.get_alias(FunctionName=NAME, Name="live")["FunctionVersion"] == bigger["version"]
    assert lam.get_function_configuration(FunctionName=NAME, Qualifier="live")["MemorySize"] == 256
    # Requests go through the alias (restored environments), not to $LATEST.
    on_alias = lam.get_function_url_config(FunctionName=NAME, Qualifier="live")
    assert on_alias["FunctionUrl"] == bigger["url"] and on_alias["AuthType"] == "NONE"
    assert {s["Sid"] for s in _policy_statements_of(lam, "live")} == PUBLIC_SIDS
    url_calls = [c for c in rec.calls if c[1].endswith(f"/functions/{NAME}/url")]
    assert url_calls and all(c[2].get("Qualifier") == "live" for c in url_calls)

    # Without --snapstart: no version, no alias (moto keeps no SnapStart setting to switch off);
    # destroy takes the alias and the versions with the function.
    plain = await deploy(name=NAME, memory=256, endpoint_url=moto_endpoint)
    assert plain["alias"] is None and plain["version"] is None
    await destroy(name=NAME, endpoint_url=moto_endpoint)
    with pytest.raises(ClientError):
        lam.get_alias(FunctionName=NAME, Name="live")


def _policy_statements_of(lam, qualifier, name=NAME):
    try:
        return json.loads(lam.get_policy(FunctionName=name, Qualifier=qualifier)["Policy"])["Statement"]
    except lam.exceptions.ResourceNotFoundException:
        return []


async def test_destroy_removes_exactly_the_stack_and_is_idempotent(moto_endpoint, fake_aws_env):
    await deploy(name=NAME, endpoint_url=moto_endpoint, public=True)
    await deploy(name="ls-other", endpoint_url=moto_endpoint)  # a second stack destroy must spare
    iam, lam, logs = _clients(moto_endpoint)

    result = await destroy(NAME, REGION, None, moto_endpoint)
    assert len(result["removed"]) == 3 and result["skipped"] == [] and result["absent"] == []
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=NAME)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_url_config(FunctionName=NAME)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=role_name(NAME, REGION))
    assert _log_group(logs) is None

    # The other stack is untouched.
    assert lam.get_function(FunctionName="ls-other")["Tags"] == TAGS
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/lambdascope/")["Roles"]] == [
        role_name("ls-other", REGION)
    ]
    assert _log_group(logs, "/aws/lambda/ls-other") is not None

    again = await destroy(NAME, REGION, None, moto_endpoint)
    assert again["removed"] == [] and len(again["absent"]) == 3


async def test_foreign_resources_are_neither_taken_over_nor_destroyed(moto_endpoint, fake_aws_env):
    iam, lam, logs = _clients(moto_endpoint)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
        ],
    }
    arn = iam.create_role(RoleName="someone-elses", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    lam.create_function(
        FunctionName=NAME, Role=arn, Runtime="python3.12", Handler="handler.handler", Code={"ZipFile": code_zip()}
    )
    logs.create_log_group(logGroupName=GROUP)

    with pytest.raises(DeployError, match="not tagged lambdascope=true"):
        await deploy(name=NAME, endpoint_url=moto_endpoint)
    # Refused before changing anything.
    assert iam.list_roles(PathPrefix="/lambdascope/")["Roles"] == []
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_url_config(FunctionName=NAME)

    result = await destroy(NAME, REGION, None, moto_endpoint)
    assert result["removed"] == [] and len(result["skipped"]) == 2
    assert lam.get_function(FunctionName=NAME)["Configuration"]["Role"] == arn
    assert _log_group(logs) is not None


# ---- waiting for a new role --------------------------------------------------------------------


class _LambdaWithSlowIam:
    """Lambda as seen right after CreateRole: the role cannot be assumed for a few calls."""

    def __init__(self, not_ready_calls, code="InvalidParameterValueException"):
        self.not_ready_calls, self.code, self.calls = not_ready_calls, code, 0

    async def create_function(self, **params):
        self.calls += 1
        if self.calls <= self.not_ready_calls:
            message = "The role defined for the function cannot be assumed by Lambda."
            raise ClientError({"Error": {"Code": self.code, "Message": message}}, "CreateFunction")
        return {"FunctionName": params["FunctionName"]}


async def test_create_function_retries_while_the_role_propagates(monkeypatch):
    monkeypatch.setattr(deploy_module, "ROLE_WAIT_DELAYS", (0, 0, 0))
    lam = _LambdaWithSlowIam(not_ready_calls=2)
    assert await create_function_when_role_ready(lam, FunctionName="f", Role="r") == {"FunctionName": "f"}
    assert lam.calls == 3

    lam = _LambdaWithSlowIam(not_ready_calls=99)  # bounded: gives up with a line naming the fix
    with pytest.raises(DeployError, match="run deploy again"):
        await create_function_when_role_ready(lam, FunctionName="f", Role="r")
    assert lam.calls == 4

    lam = _LambdaWithSlowIam(not_ready_calls=1, code="AccessDeniedException")  # other errors: no retry
    with pytest.raises(ClientError):
        await create_function_when_role_ready(lam, FunctionName="f", Role="r")
    assert lam.calls == 1


async def test_role_not_ready_is_recognised_in_a_real_server_answer(moto_endpoint, fake_aws_env, monkeypatch):
    """moto answers a missing role with Lambda's own 'cannot be assumed' error: the retry matches it."""
    import aioboto3

    monkeypatch.setattr(deploy_module, "ROLE_WAIT_DELAYS", (0,))
    async with aioboto3.Session().client("lambda", region_name=REGION, endpoint_url=moto_endpoint) as lam:
        with pytest.raises(DeployError, match="cannot assume role"):
            await create_function_when_role_ready(
                lam,
                FunctionName=NAME,
                Runtime="python3.13",
                Handler="handler.handler",
                Role=f"arn:aws:iam::{ACCOUNT}:role/not-yet",
                Code={"ZipFile": code_zip()},
            )


# ---- pure pieces -------------------------------------------------------------------------------


def test_code_zip_is_the_handler_and_its_host_facts_and_reproducible():
    data = code_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == ["handler.py", "hostfacts.py"]
        for name in zf.namelist():
            assert zf.read(name) == (ROOT / "probe" / name).read_bytes()
    assert code_zip() == data  # same bytes, same CodeSha256: unchanged code is not re-uploaded


def test_the_deployed_zip_runs_as_lambda_imports_it(tmp_path):
    """Unpacked, `handler` is a top-level module (Lambda's `handler.handler`) that finds hostfacts
    beside it: run in a bare interpreter that cannot see the checkout, on a simulated arm64 host."""
    with zipfile.ZipFile(io.BytesIO(code_zip())) as zf:
        zf.extractall(tmp_path / "task")
    host = materialize(HostSpec(name="169.254.96.1", arch="arm64"), str(tmp_path / "hosts"))
    # -I -S: no checkout, no site-packages on the path; only the unpacked task folder, as Lambda's.
    code = "import sys, json; sys.path.insert(0, '.'); import handler; print(json.dumps(handler.record({}, None)))"
    env = {"PATH": os.environ["PATH"], "LAMBDASCOPE_PROC_ROOT": host.proc_root, "TMPDIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], cwd=tmp_path / "task", env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rec = json.loads(out.stdout)
    assert rec["hostname"] == "169.254.96.1" and rec["cpu_model"] == "AWS Graviton2 (Neoverse-N1)"
    assert rec["cpu_part"] == "0xd0c"


def test_role_names_fit_iam_and_stay_distinct():
    long_a, long_b = "a" * 63 + "x", "a" * 63 + "y"
    assert len(role_name(long_a, "ap-southeast-4")) <= 64
    assert role_name(long_a, "ap-southeast-4") != role_name(long_b, "ap-southeast-4")
    assert role_name(NAME, "us-east-1") != role_name(NAME, "eu-west-1")  # regions don't share a role


@pytest.mark.parametrize(
    "code, message, expected",
    [
        (
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: "
            "iam:CreateRole on resource: role x",
            "iam:CreateRole",
        ),
        (
            "AccessDeniedException",
            "User: u is not authorized to perform: lambda:CreateFunction on "
            "resource: f because no identity-based policy allows the "
            "lambda:CreateFunction action",
            "lambda:CreateFunction",
        ),
        ("AccessDeniedException", "denied", "for CreateFunction"),
    ],
)
def test_access_denied_names_the_missing_action(code, message, expected):
    exc = ClientError({"Error": {"Code": code, "Message": message}}, "CreateFunction")
    line = explain(exc)
    assert line.startswith("missing AWS permission ") and expected in line and "\n" not in line


# ---- the command line --------------------------------------------------------------------------


def _no_secret(secret, *texts):
    for text in texts:
        assert secret not in text and FAKE_ACCESS_KEY not in text


def test_cli_deploy_then_destroy(moto_endpoint, fake_aws_env, capsys):
    flags = ["--name", NAME, "--region", REGION, "--endpoint-url", moto_endpoint]
    assert main(["deploy", *flags, "--public", "--memory", "256", "--arch", "arm64"]) == 0
    out, err = capsys.readouterr()
    summary, _, watch = out.partition("\nwatch it: ")
    summary = json.loads(summary)
    assert summary["auth_type"] == "NONE" and summary["memory_mb"] == 256 and summary["arch"] == "arm64"
    assert watch.startswith(f"lambdascope watch --function {NAME} --region {REGION}")
    assert err.startswith("lambdascope: warning: ") and "public" in err
    _no_secret(fake_aws_env, out, err)

    assert main(["destroy", *flags]) == 0
    out2, err2 = capsys.readouterr()
    assert len(json.loads(out2)["removed"]) == 3 and err2 == ""
    assert main(["destroy", *flags]) == 0  # again: nothing left, still fine
    out3, err3 = capsys.readouterr()
    _no_secret(fake_aws_env, out2, err2, out3, err3)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["deploy", "--memory", "64"], "--memory: must be 128..10240 MB (got 64)"),
        (["deploy", "--memory", "10241"], "--memory: must be 128..10240 MB (got 10241)"),
        (["deploy", "--memory", "lots"], "--memory: must be a whole number of MB"),
        (["deploy", "--arch", "sparc"], "--arch: invalid choice"),
        (["deploy", "--name", "no spaces"], "invalid --name"),
        (["deploy", "--profile", "nosuchprofile"], "AWS profile 'nosuchprofile' not found"),
        (["destroy", "--region", "not a region"], "invalid region 'not a region'"),
    ],
)
def test_cli_bad_input_is_one_line(argv, expected, moto_endpoint, fake_aws_env, capsys):
    assert main([*argv, "--endpoint-url", moto_endpoint]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("lambdascope: error: ")
    assert expected in err
    _no_secret(fake_aws_env, err)


def test_cli_unreachable_endpoint_is_one_line(fake_aws_env, monkeypatch, capsys):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # no retry backoff: the port is closed anyway
    port = free_port()
    assert main(["deploy", "--endpoint-url", f"http://127.0.0.1:{port}"]) == 2
    _, err = capsys.readouterr()
    assert err == (
        f"lambdascope: error: cannot reach http://127.0.0.1:{port}: check --region (e.g. us-east-1), "
        "--endpoint-url and your network\n"
    )


def test_cli_without_credentials_is_one_line(moto_endpoint, fake_aws_env, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    for command in ("deploy", "destroy"):
        assert main([command, "--endpoint-url", moto_endpoint]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err == "lambdascope: error: no AWS credentials found: run 'aws configure' or set AWS_PROFILE\n"


def test_console_script_without_credentials(moto_endpoint, fake_aws_env):
    """The installed `lambdascope` script, as a user runs it: exit 2, one line, no traceback."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    script = Path(sys.executable).with_name("lambdascope")
    proc = subprocess.run(
        [str(script), "deploy", "--endpoint-url", moto_endpoint],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == "lambdascope: error: no AWS credentials found: run 'aws configure' or set AWS_PROFILE\n"
