"""DESIGN.md's import rules, enforced.

The layers and the forbidden imports are import-linter contracts in pyproject.toml
(`[tool.importlinter]`), checked here by the real tool so a plain `pytest` run enforces them too.
What a static contract cannot see is checked beside it: the probe's zip and the extension layer
import the standard library only (or a file of their own zip), and importing the pure core in a
fresh interpreter loads no IO library (a lazy import inside a function is invisible to the graph
until it runs).
"""

import ast
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every module of the core package, found on disk (a module added to tui/core is checked with no
# list to edit), and the pure parts of loadgen.
PURE = sorted("tui.core." + p.stem for p in (ROOT / "tui" / "core").glob("*.py") if p.stem != "__init__") + [
    "tui.core",
    "loadgen.plan",
    "loadgen.schedule",
]
IO_LIBS = {"textual", "aiohttp", "aioboto3", "aiobotocore", "botocore", "boto3", "moto", "matplotlib"}


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports", path=os.path.dirname(sys.executable))
    if exe is None:
        pytest.fail("lint-imports is missing: `make test` installs it (pip install -e '.[test]')")
    out = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def _top_level_imports(source: str) -> set[str]:
    mods = set()
    # Python 3.9's grammar: the oldest Python runtime these files run on in Lambda.
    for node in ast.walk(ast.parse(source, feature_version=(3, 9))):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods.add(node.module.split(".")[0])
    return mods


@pytest.mark.parametrize("which", ["probe", "layer"])
def test_shipped_code_imports_only_the_stdlib_and_what_ships_beside_it(which):
    """The probe's zip (handler.py, hostfacts.py) and the extension layer's Python files run on a
    bare Lambda Python runtime: each imports the standard library or a module of its own zip."""
    from probe.deploy_spec import code_zip
    from probe.extension.layer import layer_zip

    with zipfile.ZipFile(io.BytesIO(code_zip() if which == "probe" else layer_zip())) as zf:
        sources = {n: zf.read(n).decode() for n in zf.namelist() if n.endswith(".py")}
    beside = {Path(n).stem for n in sources}
    for name, source in sources.items():
        foreign = _top_level_imports(source) - set(sys.stdlib_module_names) - beside
        assert not foreign, (name, foreign)


def test_pure_core_loads_no_io_library_at_runtime():
    code = "import sys; import " + ", ".join(PURE) + "; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert not loaded & IO_LIBS, loaded & IO_LIBS
