"""`lambdascope local`: the local Lambda alone, until Ctrl-C, for ab, the AWS CLI or any SDK.

It first prints one JSON line of endpoints (function_url, invoke_endpoint, endpoint_url (one URL
for every Lambda and CloudWatch Logs call), logs_endpoint, region,
function_name, log_group; with --kinesis also kinesis_stream and kinesis_stream_arn, read through
endpoint_url like every other call; with --handler the handler, with --layer where the layers are).
"""

import argparse

from tui.commands.options import add_code_flags, positive_int
from tui.core.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("local", help="run the local Lambda alone and print its endpoints as one JSON line")
    p.add_argument("--profile-file", help="profile TOML file, or a shipped profile name (today, blog)")
    p.add_argument("--concurrency-limit", type=int, help="function concurrency limit (429 above it)")
    p.add_argument("--port", type=int, default=0, help="front door port on 127.0.0.1 (default: any free port)")
    p.add_argument(
        "--kinesis",
        action="store_true",
        help="also the Kinesis log channel of 'deploy --kinesis' (stream, role, subscription filter, in moto); "
        "its stream is in the endpoints line",
    )
    # The command that started it (tui/aws/local_process.py): stop, cleanly, when that one dies,
    # even by SIGKILL, instead of serving on as an orphan.
    p.add_argument("--stop-with", type=int, metavar="PID", help=argparse.SUPPRESS)
    add_code_flags(p)
    p.set_defaults(handler=handle)


async def handle(args) -> int:
    import asyncio
    import importlib
    import os

    from loadgen import gc_policy
    from probe.local.moto_server import MotoServer
    from probe.local.profile import load_profile, with_code

    positive_int("--concurrency-limit", args.concurrency_limit)
    if args.stop_with is not None:
        from probe.local.procs import stop_with_parent

        stop_with_parent()
        if os.getppid() != args.stop_with:
            return 0  # the command that started us died before the call: nobody to serve
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be between 0 and 65535 (got {args.port})")
    try:
        # A bad profile, handler or layer is said before anything starts.
        profile = with_code(load_profile(args.profile_file), args.code_handler, args.layer)
    except (OSError, ValueError) as exc:
        raise UserError(str(exc).splitlines()[0] or f"cannot read {args.profile_file}") from None
    # moto first: it boots (~0.8 s) while the local Lambda is imported (~0.8 s) in a thread.
    moto = MotoServer().spawn()
    try:
        local_lambda = await asyncio.to_thread(importlib.import_module, "probe.local.local_lambda")

        async def ready(ll) -> dict:
            info = await _kinesis_setup(ll) if args.kinesis else {}
            gc_policy.freeze_startup()  # the fleet's machinery is up (loadgen/gc_policy.py)
            return info

        await local_lambda.serve(profile, args.concurrency_limit, args.port, moto=moto, setup=ready)
    except ValueError as exc:
        raise UserError(str(exc).splitlines()[0]) from None
    except OSError as exc:
        raise UserError(f"cannot start the local Lambda: {exc.strerror or exc}; try another --port") from None
    finally:
        await asyncio.shield(moto.stop())  # a no-op once the local Lambda stopped it
    return 0


async def _kinesis_setup(ll) -> dict:
    from probe.deploy_kinesis import ensure_local

    summary = await ensure_local(ll)
    return {"kinesis_stream": summary["kinesis_stream"], "kinesis_stream_arn": summary["kinesis_stream_arn"]}
