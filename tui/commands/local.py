"""`lambdascope local`: the local Lambda alone, until Ctrl-C, for ab, the AWS CLI or any SDK.

It first prints one JSON line of endpoints (function_url, invoke_endpoint, endpoint_url (one URL
for every Lambda and CloudWatch Logs call), logs_endpoint, region,
function_name, log_group).
"""

from tui.commands.options import positive_int
from tui.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("local", help="run the local Lambda alone and print its endpoints as one JSON line")
    p.add_argument("--profile-file", help="profile TOML file, or a shipped profile name (today, blog)")
    p.add_argument("--concurrency-limit", type=int, help="function concurrency limit (429 above it)")
    p.add_argument("--port", type=int, default=0, help="front door port on 127.0.0.1 (default: any free port)")
    p.set_defaults(handler=handle)


async def handle(args) -> int:
    from probe.local import serve

    positive_int("--concurrency-limit", args.concurrency_limit)
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be between 0 and 65535 (got {args.port})")
    try:
        await serve(args.profile_file, args.concurrency_limit, args.port)
    except ValueError as exc:
        raise UserError(str(exc).splitlines()[0]) from None
    except OSError as exc:
        raise UserError(f"cannot start the local Lambda: {exc.strerror or exc}; try another --port") from None
    return 0
