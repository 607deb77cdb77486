"""The `lambdascope` console script: parse the command line, dispatch, turn errors into one line.

A bare `lambdascope` is `lambdascope watch` on the local Lambda.
"""

import argparse
import asyncio
import importlib
import inspect
import os
import signal
import sys

from loadgen import gc_policy
from tui.commands import COMMANDS
from tui.core.errors import UserError, one_line


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line naming the fix, not a usage block."""

    def error(self, message):
        raise UserError(f"{message} (see '{self.prog} --help')")


def build_parser():
    parser = _Parser(
        prog="lambdascope",
        description="See the servers behind AWS Lambda while you load them.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"tui.commands.{name}").register(sub)
    return parser


class _Version(argparse.Action):
    """--version, read from the installed metadata only when asked (importlib.metadata costs
    ~50 ms, and every start would pay it)."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"lambdascope {_version()}")  # stdout, as argparse's own version action
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lambdascope")
    except PackageNotFoundError:
        return "(not installed)"


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    # SIGTERM (kill, timeout, a closing terminal) stops us like Ctrl-C does: the running
    # command's cleanup runs, so the local Lambda and the load process stop with us.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        parser = build_parser()
        if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
            argv = ["watch", *argv]
        args = parser.parse_args(argv)
        gc_policy.tune()  # a long run's collector (loadgen/gc_policy.py has the measurement)
        result = args.handler(args)
        if inspect.iscoroutine(result):
            result = asyncio.run(_cancel_on_sigterm(result))
        return int(result or 0)
    except UserError as exc:
        print(f"lambdascope: error: {one_line(exc, limit=1000)}", file=sys.stderr)
        return exc.exit_code
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("lambdascope: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback (it could show a credential in its locals)
        if os.environ.get("LAMBDASCOPE_DEBUG"):
            raise
        print(
            f"lambdascope: error: {one_line(exc)} (a bug: please report it; LAMBDASCOPE_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1


async def _cancel_on_sigterm(coro):
    """SIGTERM cancels the command the way Ctrl-C does, so its cleanup runs inside the loop
    (a KeyboardInterrupt raised at an arbitrary point would cut shutdown steps short)."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    try:
        return await coro
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


if __name__ == "__main__":
    sys.exit(main())
