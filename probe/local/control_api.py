"""Lambda's control-plane reads on the front door, in AWS's REST-JSON shapes, so that lambdascope
(`watch --function NAME --endpoint-url ...`), the AWS CLI and any SDK can look the function up:

    GET /2015-03-31/functions/{name}/configuration   GetFunctionConfiguration
    GET /2015-03-31/functions/{name}                 GetFunction
    GET /2021-10-31/functions/{name}/url             GetFunctionUrlConfig
    GET /2015-03-31/functions[/]                     ListFunctions
    GET /2016-08-19/account-settings[/]              GetAccountSettings
    GET /2019-09-30/functions/{name}/concurrency     GetFunctionConcurrency

GetAccountSettings answers from the local Lambda's own limits: the profile's concurrency_limit is
the account's concurrency quota, all of it unreserved (the one local function reserves none, so
GetFunctionConcurrency answers `{}`, as Lambda does for a function without a reservation).

Shapes follow the API reference (FunctionConfiguration, FunctionCodeLocation, ...) so botocore
parses them unchanged. An unknown function is a 404 with `x-amzn-ErrorType:
ResourceNotFoundException` and `{"Type": "User", "message": ...}`, as Lambda answers. Any other
Lambda API call (a request signed for the `lambda` service on an API-version path) gets a clear
400 rather than reaching the function URL. Nothing here changes the function: it is read-only.

One read is lambdascope's own, not AWS's: `GET /_lambdascope/status` (STATUS_PATH) gives the
local machine's side: environments live, the cap on environment processes this machine holds,
and how many requests it turned away (429 with `X-Lambdascope-Limit: local-machine`) or queued.
"""

import base64
import hashlib
import os
import platform
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from aiohttp import web

from probe.deploy_spec import LOCAL_TAGS

CONFIG_PATH = "/2015-03-31/functions/{name}/configuration"
FUNCTION_PATH = "/2015-03-31/functions/{name}"
URL_CONFIG_PATH = "/2021-10-31/functions/{name}/url"
LIST_PATHS = ("/2015-03-31/functions", "/2015-03-31/functions/")
ACCOUNT_SETTINGS_PATHS = ("/2016-08-19/account-settings", "/2016-08-19/account-settings/")
CONCURRENCY_PATH = "/2019-09-30/functions/{name}/concurrency"
# Lambda's code storage limits (AWS docs, "Lambda quotas"): 75 GB in all, 50 MB zipped per
# upload, 250 MB unzipped.
_TOTAL_CODE_SIZE = 80_530_636_800
_CODE_SIZE_ZIPPED = 52_428_800
_CODE_SIZE_UNZIPPED = 262_144_000
STATUS_PATH = "/_lambdascope/status"

_API_PATH = re.compile(r"^/20\d\d-\d\d-\d\d/")
_LAMBDA_SCOPE = re.compile(r"Credential=[^,]*/lambda/aws4_request")


def add_control_routes(app: web.Application, door) -> None:
    api = ControlApi(door)
    app.router.add_get(CONFIG_PATH, api.get_function_configuration)
    app.router.add_get(URL_CONFIG_PATH, api.get_function_url_config)
    app.router.add_get(FUNCTION_PATH, api.get_function)
    for path in LIST_PATHS:
        app.router.add_get(path, api.list_functions)
    for path in ACCOUNT_SETTINGS_PATHS:
        app.router.add_get(path, api.get_account_settings)
    app.router.add_get(CONCURRENCY_PATH, api.get_function_concurrency)
    app.router.add_get(STATUS_PATH, api.status)


def error(status: int, error_type: str, message: str, request_id: str | None = None, **extra) -> web.Response:
    """A Lambda API error as botocore reads it: the type in `x-amzn-ErrorType`, a JSON body."""
    body = {"Type": "User", "message": message, **extra}
    return web.json_response(
        body,
        status=status,
        headers={"x-amzn-ErrorType": error_type, "x-amzn-RequestId": request_id or str(uuid.uuid4())},
    )


def function_matches(name: str, qualifier: str | None, config) -> tuple[bool, str | None]:
    """Accept a name, `name:qualifier`, a partial ARN or a full ARN of our one function.

    Returns (found, qualifier); `$LATEST`, the profile's published version and the alias
    `live` exist locally (all served by the same environments).
    """
    parts = name.split(":")
    if name.startswith("arn:"):
        if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
            return False, None
        if parts[3] not in ("", config.region) or parts[4] not in ("", config.account):
            return False, None
        parts = parts[6:]  # arn:aws:lambda:region:account:function:NAME[:QUALIFIER]
    elif len(parts) >= 3 and parts[1] == "function":
        if parts[0] != config.account:
            return False, None
        parts = parts[2:]  # ACCOUNT:function:NAME[:QUALIFIER]
    if not parts or parts[0] != config.function_name or len(parts) > 2:
        return False, None
    q = parts[1] if len(parts) == 2 else qualifier
    if q not in (None, "", "$LATEST", getattr(config, "version", "$LATEST"), ALIAS):
        return False, q
    return True, q


ALIAS = "live"  # the alias a SnapStart function is invoked through


def not_found(config, name: str, qualifier: str | None, request_id: str | None = None) -> web.Response:
    base = config.function_arn.rsplit(":", 1)[0]  # arn:aws:lambda:REGION:ACCOUNT:function
    fn = name.rsplit(":function:", 1)[-1] if ":function:" in name else name
    if qualifier and ":" not in fn:
        fn = f"{fn}:{qualifier}"
    return error(404, "ResourceNotFoundException", f"Function not found: {base}:{fn}", request_id)


def unknown_operation(request: web.Request) -> web.Response | None:
    """A 400 for a Lambda API call we do not serve; None for anything else (a function URL call).

    Only requests SigV4-signed for `lambda` on an API-version path count: a function URL request
    (even one signed for an AWS_IAM URL, whose path is the caller's own) still reaches the function.
    """
    if not _API_PATH.match(request.path):
        return None
    if not _LAMBDA_SCOPE.search(request.headers.get("Authorization", "")):
        return None
    return error(
        400,
        "InvalidRequestContentException",
        f"the local Lambda serves Invoke and the reads GetFunction, "
        f"GetFunctionConfiguration, GetFunctionUrlConfig, ListFunctions, GetAccountSettings "
        f"and GetFunctionConcurrency; "
        f"{request.method} {request.path} is not one of them",
    )


def _iso_ms(epoch: float) -> str:
    # Lambda's LastModified: 2024-01-01T12:00:00.000+0000
    dt = datetime.fromtimestamp(epoch, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def _iso_us(epoch: float) -> str:
    # Function URL CreationTime: 2024-01-01T12:00:00.123456Z
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _architecture() -> str:
    return "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"


def _handler_code(handler: str) -> bytes:
    """The source of the handler's module (what a deployment package would hold), if found."""
    module = handler.rsplit(".", 1)[0]
    mod = sys.modules.get(module)
    path = getattr(mod, "__file__", None)
    if path is None:
        import probe

        root = os.path.dirname(os.path.dirname(os.path.abspath(probe.__file__)))
        path = os.path.join(root, *module.split(".")) + ".py"
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


class ControlApi:
    def __init__(self, door):
        self.door = door
        self.config = door.config
        self.profile = door.fleet.profile
        self.created = time.time()
        code = _handler_code(self.config.handler)
        self.code_size = len(code)
        self.code_sha256 = base64.b64encode(hashlib.sha256(code).digest()).decode()
        self.revision = str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"{self.config.function_arn}:{self.code_sha256}:{self.created}")
        )

    # -- shapes -------------------------------------------------------------------------------
    def configuration(self, qualified: bool = False) -> dict:
        c, p = self.config, self.profile
        arn = c.function_arn + (f":{c.version}" if qualified else "")
        version = c.version if qualified else "$LATEST"
        logging_config = {"LogFormat": "JSON" if p.log_format == "json" else "Text", "LogGroup": c.log_group}
        if p.log_format == "json":
            logging_config.update(ApplicationLogLevel="INFO", SystemLogLevel="INFO")
        return {
            "FunctionName": c.function_name,
            "FunctionArn": arn,
            "Runtime": f"python{sys.version_info.major}.{sys.version_info.minor}",
            "Role": f"arn:aws:iam::{c.account}:role/{c.function_name}-local",
            "Handler": c.handler,
            "CodeSize": self.code_size,
            "Description": "lambdascope's local Lambda (simulated hosts)",
            "Timeout": _seconds(c.timeout_s),
            "MemorySize": c.memory_mb,
            "LastModified": _iso_ms(self.created),
            "CodeSha256": self.code_sha256,
            "Version": version,
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": self.revision,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": [_architecture()],
            "EphemeralStorage": {"Size": 512},
            "SnapStart": (
                {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On" if qualified else "Off"}
                if p.mode == "snapstart"
                else {"ApplyOn": "None", "OptimizationStatus": "Off"}
            ),
            "LoggingConfig": logging_config,
            **self._capacity_provider_config(),
        }

    def _capacity_provider_config(self) -> dict:
        p = self.profile
        if p.mode != "lmi":
            return {}
        c = self.config
        arn = f"arn:aws:lambda:{c.region}:{c.account}:capacity-provider:{p.capacity_provider}"
        return {
            "CapacityProviderConfig": {
                "LambdaManagedInstancesCapacityProviderConfig": {
                    "CapacityProviderArn": arn,
                    "PerExecutionEnvironmentMaxConcurrency": p.max_concurrency,
                    "ExecutionEnvironmentMemoryGiBPerVCpu": 2.0,
                }
            }
        }

    def url_config(self) -> dict:
        return {
            "FunctionUrl": f"http://127.0.0.1:{self.door.port}/",
            "FunctionArn": self.config.function_arn,
            "AuthType": "NONE",
            "CreationTime": _iso_us(self.created),
            "LastModifiedTime": _iso_us(self.created),
            "InvokeMode": "BUFFERED",
        }

    # -- handlers -----------------------------------------------------------------------------
    def _lookup(self, request: web.Request) -> tuple[web.Response | None, bool]:
        name = request.match_info["name"]
        qualifier = request.query.get("Qualifier")
        found, q = function_matches(name, qualifier, self.config)
        if not found:
            return not_found(self.config, name, q), False
        return None, bool(q)

    @staticmethod
    def _ok(body: dict) -> web.Response:
        return web.json_response(body, headers={"x-amzn-RequestId": str(uuid.uuid4())})

    async def get_function_configuration(self, request: web.Request) -> web.Response:
        missing, qualified = self._lookup(request)
        return missing or self._ok(self.configuration(qualified))

    async def get_function(self, request: web.Request) -> web.Response:
        missing, qualified = self._lookup(request)
        if missing:
            return missing
        return self._ok(
            {
                "Configuration": self.configuration(qualified),
                "Code": {"RepositoryType": "S3", "Location": ""},
                # lambdascope's, and the local Lambda's own: `deploy --endpoint-url` here makes only
                # what is not the function (the Kinesis channel), as Lambda's GetFunction gives Tags.
                "Tags": dict(LOCAL_TAGS),
            }
        )

    async def get_function_url_config(self, request: web.Request) -> web.Response:
        missing, qualified = self._lookup(request)
        if missing:
            return missing
        if qualified:  # the URL is on the unqualified function only
            return error(404, "ResourceNotFoundException", "The resource you requested does not exist.")
        return self._ok(self.url_config())

    async def list_functions(self, request: web.Request) -> web.Response:
        return self._ok({"Functions": [self.configuration()]})

    async def get_account_settings(self, request: web.Request) -> web.Response:
        limit = self.profile.concurrency_limit
        return self._ok(
            {
                "AccountLimit": {
                    "TotalCodeSize": _TOTAL_CODE_SIZE,
                    "CodeSizeUnzipped": _CODE_SIZE_UNZIPPED,
                    "CodeSizeZipped": _CODE_SIZE_ZIPPED,
                    "ConcurrentExecutions": limit,
                    "UnreservedConcurrentExecutions": limit,
                },
                "AccountUsage": {"TotalCodeSize": self.code_size, "FunctionCount": 1},
            }
        )

    async def get_function_concurrency(self, request: web.Request) -> web.Response:
        missing, _ = self._lookup(request)
        return missing or self._ok({})

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response(self.door.fleet.status())
