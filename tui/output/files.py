"""Files the outputs write: atomically (a reader never sees half a file) and masked (no credential
ever reaches disk), in folders named for the moment they were made."""

import os
import tempfile
from datetime import UTC, datetime

from tui.core.errors import mask


def write_atomic(path: str, data: str | bytes) -> None:
    """Write via a temp file and rename: a reader never sees half a file, a crash leaves none."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            # Masked: error texts and log content in an export may quote a credential.
            fh.write(mask(data).encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def snapshot_folder(base_dir: str, now: float) -> str:
    """Create a new folder under `base_dir` named for `now` (UTC); never reuse an existing one."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    path, n = os.path.join(base_dir, stamp), 1
    while True:
        try:
            os.makedirs(path)
            return path
        except FileExistsError:
            n += 1
            path = os.path.join(base_dir, f"{stamp}-{n}")
