"""A function whose init takes a second (imported inside environments via PYTHONPATH): the
environment stays `starting` that long, whatever the machine's speed."""

import time

time.sleep(1.0)


def handler(event, context):
    return {"ok": True}
