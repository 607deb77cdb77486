"""What `deploy --loader` makes, as data: the loader function's names, settings, its role's three
policies, the control bucket's name, and the code zip. No AWS calls (probe/deploy_loader.py
makes the calls), so the least-privilege promise is read and tested in one place.

The zip is what the loader runs, and only that:
- loadgen's modules the loader imports (`LOADGEN_MODULES`: the closure of loadgen.loader.handler,
  its runtime loop loadgen.loader.bootstrap, and loadgen.signing, which the loader imports when it
  signs a request or a control poll; tests/integration/test_deploy_loader.py checks the list
  against what importing them really loads), read as files: probe never imports loadgen;
- the third-party packages those modules import (`BUNDLED`: aiohttp and its own dependencies,
  httptools, orjson, hdrhistogram, uvloop), copied from the environment lambdascope is installed in.
  Several are compiled, so the zip is built for the interpreter running deploy: Lambda's
  python<major>.<minor> runtime on this machine's CPU, refused (one line) where no Lambda
  runtime could load them (not Linux, a Python Lambda has no runtime for, a wheel built for a
  newer glibc than the runtime's);
- botocore (SigV4 signing) is not bundled: every Lambda Python runtime carries boto3 and
  botocore;
- a wrapper script (`AWS_LAMBDA_EXEC_WRAPPER`): Lambda's Python runtime (awslambdaric) posts one
  buffered answer and cannot stream, so the wrapper starts the loader's own Runtime API loop
  (loadgen/loader/bootstrap.py: `/response` in streaming mode) with the runtime's interpreter,
  which Lambda passes the wrapper as its first argument (docs: runtimes-modify.html).
Fixed timestamps, modes and a sorted order make the bytes depend on the sources alone, so
Lambda's CodeSha256 says when re-deploying would change nothing.
"""

import importlib.metadata
import importlib.util
import platform
import re
import sys
from pathlib import Path

from probe.deploy_spec import DeployError, reproducible_zip

LOADER_NAME = "lambdascope-loader"  # tui/methods/fanout.py LOADER_FUNCTION invokes this name
LOADER_HANDLER = "loadgen.loader.handler.handler"  # read from _HANDLER by bootstrap.py
LOADER_MEMORY_MB = 1769  # one full vCPU on Lambda (AWS-FACTS §4.4): a loader is CPU-bound
LOADER_TIMEOUT_S = 900  # Lambda's longest: a share lasts as long as the plan, up to this
LOADER_DESCRIPTION = "lambdascope loader: runs one share of a fan-out's load and streams its outcomes back"
WRAPPER = "lambdascope-loader-wrapper"
WRAPPER_SCRIPT = b"""#!/bin/sh
# Lambda starts its Python runtime through this script (AWS_LAMBDA_EXEC_WRAPPER), the
# interpreter's path first: run the loader's own streaming Runtime API loop instead, since the
# managed runtime answers in one buffered response and a loader streams its outcomes.
cd "$LAMBDA_TASK_ROOT" || exit 1
export PYTHONPATH="$LAMBDA_TASK_ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "$1" -u -m loadgen.loader.bootstrap
"""
# The loader's environment: the wrapper, and what the monitor reads back with GetFunction.
ENV_CONTROL_BUCKET = "LAMBDASCOPE_CONTROL_BUCKET"
ENV_TARGET = "LAMBDASCOPE_TARGET"
TAG_TARGET = "lambdascope-loader-target"  # which function this loader's role may invoke
CONTROL_PREFIX = "fan-out/"  # tui/methods/fanout_control.py writes each run's object under it
INVOKE_POLICY_NAME = "lambdascope-loader-invoke-target"
CONTROL_POLICY_NAME = "lambdascope-loader-read-control"

LOADGEN_MODULES = (
    "__init__",
    "batcher",
    "clients",
    "duration",
    "errors",
    "fastclient",
    "gc_policy",
    "loader/__init__",
    "loader/bootstrap",
    "loader/control",
    "loader/follow",
    "loader/handler",
    "loader/record",
    "outcome",
    "plan",
    "ramp",
    "runner",
    "schedule",
    "signing",
    "split",
    "stats",
    "steering",
    "targets",
)
# Distributions whose packages the loader imports (aiohttp's own requirements included;
# typing_extensions: aiohttp and aiosignal need it below Python 3.13).
BUNDLED = (
    "aiohappyeyeballs",
    "aiohttp",
    "aiosignal",
    "attrs",
    "frozenlist",
    "hdrhistogram",
    "httptools",
    "idna",
    "multidict",
    "orjson",
    "propcache",
    "typing_extensions",
    "uvloop",
    "yarl",
)
# Files of an installed distribution that say how it was installed here, not what it is.
_INSTALL_ONLY = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
# Lambda's Python runtimes and the glibc each one's OS has (AL2: 2.26; AL2023: 2.34).
RUNTIME_GLIBC = {(3, 10): (2, 26), (3, 11): (2, 26), (3, 12): (2, 34), (3, 13): (2, 34), (3, 14): (2, 34)}
_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
_TAG = re.compile(r"manylinux_(\d+)_(\d+)_(\w+)$")
_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def loader_runtime(version=None, system=None, machine=None):
    """(Lambda runtime, architecture) for the interpreter running deploy, or a DeployError."""
    version = tuple(version or sys.version_info[:2])
    system = system or sys.platform
    machine = machine or platform.machine()
    why = "it bundles compiled packages (aiohttp, orjson, httptools, hdrhistogram, uvloop) from this Python"
    if system != "linux" or machine not in _ARCH:
        raise DeployError(f"deploy --loader runs on Linux x86_64 or aarch64 only ({why}): run it from such a machine")
    if version not in RUNTIME_GLIBC:
        names = ", ".join(f"{a}.{b}" for a, b in RUNTIME_GLIBC)
        raise DeployError(
            f"deploy --loader needs Python {names} (Lambda's Python runtimes; {why}): "
            f"install lambdascope with one of them (this is {version[0]}.{version[1]})"
        )
    return f"python{version[0]}.{version[1]}", _ARCH[machine]


def wheel_fits(tags, glibc, machine):
    """A wheel's `Tag:` values load on a Lambda runtime with `glibc` on `machine`: pure Python, or
    some manylinux tag no newer than that glibc for that CPU."""
    for tag in tags:
        platform_tag = tag.split("-")[-1]
        if platform_tag == "any":
            return True
        for legacy, floor in _LEGACY.items():
            if platform_tag == f"{legacy}_{machine}" and floor <= glibc:
                return True
        m = _TAG.match(platform_tag)
        if m and m.group(3) == machine and (int(m.group(1)), int(m.group(2))) <= glibc:
            return True
    return False


def loader_files(version=None, machine=None):
    """{zip path: bytes} of the loader, sorted (see the module doc)."""
    version = tuple(version or sys.version_info[:2])
    machine = machine or platform.machine()
    glibc = RUNTIME_GLIBC[version]
    files = {}
    spec = importlib.util.find_spec("loadgen")  # finds, never imports: probe stands apart from loadgen
    if spec is None or not spec.submodule_search_locations:
        raise DeployError("loadgen (lambdascope's load generator) is not installed here: reinstall lambdascope")
    root = Path(list(spec.submodule_search_locations)[0])
    for module in LOADGEN_MODULES:
        files[f"loadgen/{module}.py"] = (root / f"{module}.py").read_bytes()
    for name in BUNDLED:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise DeployError(f"{name} is not installed with lambdascope: reinstall lambdascope") from None
        wheel = dist.read_text("WHEEL") or ""
        tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
        if not wheel_fits(tags, glibc, machine):
            raise DeployError(
                f"{name} {dist.version} is installed here as {', '.join(tags) or 'a local build'}, which Lambda's "
                f"python{version[0]}.{version[1]} (glibc {glibc[0]}.{glibc[1]}) cannot load: "
                f"pip install --force-reinstall --only-binary :all: {name}"
            )
        for path in dist.files or ():
            parts = path.parts
            if parts[0] == ".." or "__pycache__" in parts or path.suffix == ".pyc" or path.name in _INSTALL_ONLY:
                continue  # scripts outside site-packages, bytecode of this machine, install records
            files[path.as_posix()] = Path(dist.locate_file(path)).read_bytes()
    files[WRAPPER] = WRAPPER_SCRIPT
    return dict(sorted(files.items()))


def loader_zip(version=None, machine=None):
    files = loader_files(version, machine)
    return reproducible_zip(files, {WRAPPER: 0o755})


def environment(bucket, target):
    return {
        "AWS_LAMBDA_EXEC_WRAPPER": f"/var/task/{WRAPPER}",
        ENV_CONTROL_BUCKET: bucket,
        ENV_TARGET: target,
    }


def control_bucket_name(account, region):
    """S3 names are global: the account and region make it this account's, one per region."""
    return f"lambdascope-control-{account}-{region}"


def invoke_policy(function_arn):
    """The target only, by the Invoke API or its function URL; `:*` covers its versions and
    aliases (a SnapStart probe is invoked through its alias `live`)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InvokeTheTarget",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"],
                "Resource": [function_arn, f"{function_arn}:*"],
            }
        ],
    }


def control_policy(partition, bucket):
    """Reading the control objects only: no list, no write, no other key of the bucket."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadControlObjects",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:{partition}:s3:::{bucket}/{CONTROL_PREFIX}*",
            }
        ],
    }
