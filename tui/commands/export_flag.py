"""`--export DIR`, the same for `run`, `analyze` and `replay`: one export folder (tui/core/snapshot.py)."""

import sys

from tui.core.errors import UserError


def add_export_flag(p) -> None:
    p.add_argument(
        "--export",
        metavar="DIR",
        help="also write an export folder: snapshot.json, containers.csv, timeline.csv and the figures",
    )


def write_export_folder(folder: str | None, bundle) -> None:
    if not folder:
        return
    from tui.output.folder import write_export

    try:
        names = write_export(folder, bundle)
    except OSError as exc:
        raise UserError(
            f"cannot write the export folder {folder}: {exc.strerror or exc}; choose another --export DIR"
        ) from None
    print(f"lambdascope: export written to {folder}/ ({', '.join(names)})", file=sys.stderr)
