"""This machine's start queue, when the local Lambda reported one worth saying (see
tui/core/start_queue.py): a finding of its own, so the screen, the snapshot and the figures
never let this machine's wait pass for Lambda's scaling.

Pure: one `find` over the told fleet (see `tui.core.findings.story`)."""


def find(fleet) -> list[dict]:
    q = getattr(fleet, "start_queue", None)
    if q is None or not q.worth_saying:
        return []
    return [
        {
            "kind": "local_start_queue",
            **q.figures(),
            "evidence": {"from": "the local Lambda's status (GET /_lambdascope/status)"},
        }
    ]
