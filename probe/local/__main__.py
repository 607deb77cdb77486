"""`python -m probe.local [--profile-file F] [--concurrency-limit N] [--port P]`: the local Lambda
alone, printing its endpoints as one JSON line so `ab`, the AWS CLI or any SDK can use it."""

import argparse
import asyncio
import json
import sys

from probe.local.local_lambda import LocalLambda


async def serve(profile_file: str | None = None, concurrency_limit: int | None = None,
                port: int = 0, *, out=None) -> None:
    """Run the local Lambda until cancelled (Ctrl-C), after printing ONE JSON line of endpoints.

    A bad profile raises ValueError with a one-line message naming the fix.
    """
    out = out or sys.stdout
    async with LocalLambda(profile=profile_file, port=port,
                           concurrency_limit=concurrency_limit) as ll:
        info = dict(ll.endpoints(), profile=ll.profile.name)
        out.write(json.dumps(info) + "\n")
        out.flush()
        await asyncio.Event().wait()  # until cancelled


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m probe.local",
                                     description="Run the local Lambda alone.")
    parser.add_argument("--profile-file", help="TOML profile, or a shipped name (today, blog, lmi, snapstart)")
    parser.add_argument("--concurrency-limit", type=int)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.profile_file, args.concurrency_limit, args.port))
    except ValueError as exc:
        print(f"lambdascope local: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
