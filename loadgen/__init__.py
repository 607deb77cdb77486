"""lambdascope's load generator: schedules, targets, stats, and a worker process the app controls.

One job per module:
    outcome.py     Outcome (one request's result) and its compact tuple form; request ids
    plan.py        Plan: the one load command (mode, level, paused, limits); steps, the one
                   clamp, the mode switch's Little's-law level, PlanError keyed by field
    schedule.py    pure: open-loop arrival times, held-back counting, closed-loop tokens, budget
    targets.py     UrlTarget (function URL), InvokeTarget (Invoke API), target specs
    signing.py     SigV4Signer over botocore's SigV4Auth and standard credential chain
    errors.py      error classes for statuses and exceptions; CredentialsError
    clients.py     the aiohttp client (default) and the choice of client
    fastclient.py  a lean plain-HTTP/1.1 keep-alive client (httptools), for when the client is the limit
    runner.py      Runner: drives a target with a plan, yields outcome batches, `apply(plan)`
    stats.py       Stats/StatsSnapshot: achieved rate, p50/p99, errors by class, the plan it runs
    process.py     LoadProcess: a Runner in a spawned process (uvloop), `apply(plan)`, async stop
    wire.py        what crosses the pipe: typed commands (Apply, Stop) and reports
    child.py       the spawned process's side of LoadProcess

Nothing here imports the UI (tui, textual) or the probe: the probe record is a written
contract (DESIGN.md), read here as a plain dict.
"""
