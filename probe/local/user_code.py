"""A user's own handler for the local Lambda: `path/to/app.py:handler` becomes what Lambda
would have, a task root (the file's folder, Lambda's /var/task) and a `_HANDLER` of
`app.handler` that the real awslambdaric imports from it."""

import os

HANDLER_FORM = "give FILE.py:FUNCTION, for example app.py:handler"


def resolve_handler(spec: str, base_dir: str = ".") -> tuple[str, str]:
    """(code root, awslambdaric handler) for `spec`; ValueError, one line naming the fix, when
    the file is missing or the names cannot be a Python module and function."""
    path, sep, func = spec.rpartition(":")
    if not sep or not path.endswith(".py"):
        raise ValueError(f"handler {spec!r}: {HANDLER_FORM}")
    module = os.path.basename(path)[: -len(".py")]
    if not module.isidentifier() or not func.isidentifier():
        raise ValueError(f"handler {spec!r}: the module and function must be Python names; {HANDLER_FORM}")
    full = os.path.abspath(os.path.join(base_dir, path))
    if not os.path.isfile(full):
        raise ValueError(f"handler file {full} not found: {HANDLER_FORM}")
    return os.path.dirname(full), f"{module}.{func}"
