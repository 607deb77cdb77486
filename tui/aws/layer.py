"""The extension layer on a user's function: attach it, detach it (`lambdascope attach/detach`).

What it makes and how it finds it again:
- one layer, `lambdascope-host`, whose versions carry the zip's content hash in their
  description (layer versions cannot be tagged): attach publishes a version only when no version
  with this zip's hash exists, else reuses it;
- on the function, the layer version's ARN added to `Layers` (every layer already there is kept,
  in its place) and the tag `lambdascope-host-layer` = that ARN, so detach removes exactly it.

Every change to the function's configuration is a read-modify-write with the RevisionId it read,
so a change someone made in between is refused by Lambda (PreconditionFailedException), never
overwritten. A configuration change applies to `$LATEST` only; `publish=True` also publishes a
version from it (aliases are left where they point).

No printing here: the functions return summaries; tui/commands/attach.py says them.
"""

import asyncio

from botocore.exceptions import ClientError

from probe.extension.layer import EXTENSION_NAME, content_hash, is_python_runtime, layer_zip
from tui.core.errors import UserError

LAYER_NAME = EXTENSION_NAME
TAG_KEY = "lambdascope-host-layer"  # on the function: the layer version ARN attach added
_DESCRIPTION = "lambdascope host extension: one host-facts line per environment (Python runtimes); content "
# Python runtimes Lambda offers (the extension runs on the function's own python3, 3.9+).
COMPATIBLE_RUNTIMES = ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14"]
MAX_LAYERS = 5  # Lambda's limit of layers per function
READY_TIMEOUT_S = 180.0
READY_POLL_S = 1.0

# What each command calls, for the line an AccessDenied gets (and the README's IAM table).
ATTACH_ACTIONS = (
    "lambda:GetFunction",
    "lambda:ListTags",
    "lambda:ListLayerVersions",
    "lambda:PublishLayerVersion",
    "lambda:GetLayerVersion",
    "lambda:UpdateFunctionConfiguration",
    "lambda:GetFunctionConfiguration",
    "lambda:TagResource",
)
PUBLISH_ACTIONS = ("lambda:PublishVersion",)
DETACH_ACTIONS = (
    "lambda:GetFunction",
    "lambda:ListTags",
    "lambda:UpdateFunctionConfiguration",
    "lambda:GetFunctionConfiguration",
    "lambda:UntagResource",
)
DELETE_LAYER_ACTIONS = ("lambda:ListLayerVersions", "lambda:DeleteLayerVersion")


def description(digest: str) -> str:
    return _DESCRIPTION + digest


def unversioned(arn: str) -> str:
    """`arn:aws:lambda:R:A:layer:NAME:7` → `arn:aws:lambda:R:A:layer:NAME`."""
    head, _, version = arn.rpartition(":")
    return head if version.isdigit() else arn


def _code(exc) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def check_name(function: str) -> None:
    """$LATEST only: a qualified name (an alias or a version) is refused, since Lambda changes
    the configuration of $LATEST alone (a published version is immutable)."""
    name = function.split(":function:", 1)[-1] if function.startswith("arn:") else function
    if ":" in name and not name.endswith(":$LATEST"):
        raise UserError(
            f"--function {function!r} names a version or an alias: attach changes $LATEST only "
            "(published versions cannot change); pass the bare name, and --publish for a new version"
        )


async def _function(lam, function):
    """(Configuration, tags) of the function, or a UserError when there is none."""
    try:
        found = await lam.get_function(FunctionName=function)
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            raise UserError(
                f"no function {function!r} in this account and Region: check --function and --region"
            ) from None
        raise
    config = found["Configuration"]
    tags = found.get("Tags")
    if tags is None:  # GetFunction leaves Tags out when there are none on some paths
        tags = (await lam.list_tags(Resource=_unqualified_arn(config["FunctionArn"]))).get("Tags", {})
    return config, tags


def _unqualified_arn(arn: str) -> str:
    parts = arn.split(":")
    return ":".join(parts[:7])  # arn:aws:lambda:R:A:function:NAME


def check_runtime(config, function) -> None:
    if config.get("PackageType") == "Image":
        raise UserError(
            f"{function} is a container image: Lambda has no layers for images; "
            "the extension works on Python zip functions only (nothing changed)"
        )
    runtime = config.get("Runtime")
    if not is_python_runtime(runtime):
        raise UserError(
            f"{function} runs on {runtime or 'no managed runtime'}: the host extension runs on the function's "
            "python3, so it works on Python runtimes (python3.9 and later) only (nothing changed)"
        )


async def find_or_publish(lam):
    """(layer version ARN, published now?): the version whose description carries this zip's
    hash, else a new one."""
    data = layer_zip()
    digest = content_hash(data)
    wanted = description(digest)
    marker = None
    try:
        paginator = lam.get_paginator("list_layer_versions")
        async for page in paginator.paginate(LayerName=LAYER_NAME):
            for version in page.get("LayerVersions", []):
                if version.get("Description") == wanted and (marker is None or version["Version"] > marker["Version"]):
                    marker = version
    except ClientError as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
    if marker is not None:
        return marker["LayerVersionArn"], False
    made = await lam.publish_layer_version(
        LayerName=LAYER_NAME,
        Description=wanted,
        Content={"ZipFile": data},
        CompatibleRuntimes=COMPATIBLE_RUNTIMES,
        CompatibleArchitectures=["x86_64", "arm64"],
    )
    return made["LayerVersionArn"], True


async def _update_layers(lam, function, config, layers):
    """UpdateFunctionConfiguration with the RevisionId read: a change in between is refused."""
    try:
        await lam.update_function_configuration(FunctionName=function, Layers=layers, **_revision(config))
    except ClientError as exc:
        code = _code(exc)
        if code == "PreconditionFailedException":
            raise UserError(
                f"{function} changed while lambdascope was changing its layers (its RevisionId moved): "
                "nothing was overwritten; run the command again"
            ) from None
        if code == "ResourceConflictException":
            raise UserError(
                f"{function} is being updated (an update is in progress): wait for it to end and run the command again"
            ) from None
        raise
    return await wait_ready(lam, function)


def _revision(config):
    """Lambda always returns a RevisionId; an emulator without one (moto) gets a plain update."""
    revision = config.get("RevisionId")
    return {"RevisionId": revision} if revision else {}


async def wait_ready(lam, function):
    """The configuration once Lambda has applied the update (LastUpdateStatus not InProgress)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT_S
    while True:
        config = await lam.get_function_configuration(FunctionName=function)
        status = config.get("LastUpdateStatus", "Successful")
        if status == "Failed":
            reason = config.get("LastUpdateStatusReason") or "no reason given"
            raise UserError(f"Lambda could not apply the change to {function}: {reason}")
        if status != "InProgress":
            return config
        if loop.time() > deadline:
            raise UserError(f"{function} is still updating after {READY_TIMEOUT_S:.0f} s: look at it in the console")
        await asyncio.sleep(READY_POLL_S)


def _layer_arns(config):
    return [layer["Arn"] for layer in config.get("Layers") or []]


def _ours(arns, tagged, wanted=None):
    """Indexes of the layers that are lambdascope's: any version of the tagged layer (or of the
    one we want to add), never another layer."""
    names = {unversioned(a) for a in (tagged, wanted) if a}
    return [i for i, arn in enumerate(arns) if unversioned(arn) in names]


async def attach(lam, function, publish=False):
    """Add the layer to $LATEST, keeping every other layer; returns a summary."""
    check_name(function)
    config, tags = await _function(lam, function)
    check_runtime(config, function)
    layer_arn, published = await find_or_publish(lam)
    arns = _layer_arns(config)
    ours = _ours(arns, tags.get(TAG_KEY), layer_arn)
    if ours:
        # An older version of our layer is replaced where it stands; a second copy is dropped.
        new = [a for i, a in enumerate(arns) if i not in ours[1:]]
        new[ours[0]] = layer_arn
    else:
        if len(arns) >= MAX_LAYERS:
            raise UserError(
                f"{function} already has {len(arns)} layers, Lambda's limit: remove one first (nothing changed)"
            )
        new = [*arns, layer_arn]
    changed = new != arns
    if changed:
        config = await _update_layers(lam, function, config, new)
    if tags.get(TAG_KEY) != layer_arn:
        await lam.tag_resource(Resource=_unqualified_arn(config["FunctionArn"]), Tags={TAG_KEY: layer_arn})
    version = None
    if publish:
        made = await lam.publish_version(FunctionName=function, **_revision(config))
        version = made["Version"]
    return {
        "function": config["FunctionName"],
        "runtime": config.get("Runtime"),
        "layer": layer_arn,
        "layer_published": published,
        "changed": changed,
        "layers": _layer_arns(config) if changed else new,
        "kept": [a for a in new if a != layer_arn],
        "version": version,
        "tag": {TAG_KEY: layer_arn},
    }


async def detach(lam, function, delete_layer=False):
    """Remove exactly lambdascope's layer from $LATEST (and with `delete_layer` every layer
    version attach published); returns a summary. Nothing to remove is fine."""
    check_name(function)
    config, tags = await _function(lam, function)
    tagged = tags.get(TAG_KEY)
    arns = _layer_arns(config)
    ours = _ours(arns, tagged) if tagged else []
    removed = [arns[i] for i in ours]
    new = [a for i, a in enumerate(arns) if i not in ours]
    # A lambdascope-host layer without our tag was put there by someone else: say so, keep it.
    untagged = [a for a in new if unversioned(a).endswith(f":layer:{LAYER_NAME}")]
    if removed:
        config = await _update_layers(lam, function, config, new)
    if tagged:
        await lam.untag_resource(Resource=_unqualified_arn(config["FunctionArn"]), TagKeys=[TAG_KEY])
    deleted = await delete_layer_versions(lam) if delete_layer else []
    return {
        "function": config["FunctionName"],
        "removed": removed,
        "kept": new,
        "left_alone": untagged,
        "deleted_layer_versions": deleted,
    }


async def delete_layer_versions(lam):
    """Every version of the layer that attach published (its description says so). Functions
    that use one keep working: Lambda keeps a deleted version's copy for them."""
    found = []
    try:
        paginator = lam.get_paginator("list_layer_versions")
        async for page in paginator.paginate(LayerName=LAYER_NAME):
            found += [v for v in page.get("LayerVersions", []) if (v.get("Description") or "").startswith(_DESCRIPTION)]
    except ClientError as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
    deleted = []
    for version in found:
        try:
            await lam.delete_layer_version(LayerName=LAYER_NAME, VersionNumber=version["Version"])
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
        deleted.append(version["LayerVersionArn"])
    return deleted
