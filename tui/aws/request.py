"""The request a run sends to a function that is not the probe: the `--payload` event for the
Invoke API, or a function URL request shaped by `--method`, `--path`, `--header`, `--body`.

The flags read and check their files (tui/commands/options.py: bounded reads, at most 6 MB);
this module checks the mix and gives the target its `request` (Target.load_spec puts it in the
load generator's spec).
"""

from tui.core.errors import UserError

_MAX_HEADERS = 50


def request_shape(args) -> dict:
    """The request flags as the target's `request` (tui.aws.target.Target.load_spec): one line,
    exit 2, for a mix no target can send."""
    shape = {
        "payload": getattr(args, "payload", None),
        "method": getattr(args, "method", None),
        "path": getattr(args, "path", None),
        "headers": getattr(args, "header", None),
        "body": getattr(args, "body", None),
    }
    url_flags = [f"--{k.rstrip('s')}" for k in ("method", "path", "headers", "body") if shape[k] is not None]
    if shape["payload"] is not None and url_flags:
        raise UserError(
            f"--payload is the Invoke API's event and {', '.join(url_flags)} shape a function URL request: "
            "pick one (--body FILE for the URL's body)"
        )
    if shape["headers"] and len(shape["headers"]) > _MAX_HEADERS:
        raise UserError(f"--header given {len(shape['headers'])} times: at most {_MAX_HEADERS}")
    if shape["body"] is not None and shape["method"] in ("GET", "HEAD"):
        raise UserError(f"--body with --method {shape['method']}: a {shape['method']} has no body; use POST or PUT")
    if shape["body"] is not None and shape["method"] is None:
        shape["method"] = "POST"
    return {k: v for k, v in shape.items() if v is not None}
