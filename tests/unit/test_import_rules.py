"""DESIGN.md's import rules, enforced: who may import what.

Static (every import statement in the tree) and dynamic (what importing the pure core actually
loads, in a fresh interpreter), after harlequin's import-hygiene test.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ["tui.lambdalog", "tui.fleet", "tui.timeline", "tui.export", "tui.analysis", "tui.sources.base",
        "tui.sources.file", "tui.sources.recent", "loadgen.plan", "loadgen.schedule"]
IO_LIBS = {"textual", "aiohttp", "aioboto3", "aiobotocore", "botocore", "boto3", "moto", "socket", "asyncio",
           "requests", "urllib3", "http"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def top(names):
    return {n.split(".")[0] for n in names}


def files(package):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["probe", "loadgen"])
def test_only_tui_imports_textual_or_tui(package):
    for path in files(package):
        bad = top(imports_of(path)) & {"textual", "tui"}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_loadgen_and_probe_do_not_import_each_other():
    for path in files("loadgen"):
        assert "probe" not in top(imports_of(path)), path
    for path in files("probe"):
        assert "loadgen" not in top(imports_of(path)), path


def test_probe_handler_is_stdlib_only():
    mods = top(imports_of(ROOT / "probe" / "handler.py"))
    assert mods <= set(sys.stdlib_module_names), mods - set(sys.stdlib_module_names)


@pytest.mark.parametrize("module", PURE)
def test_pure_core_imports_no_io_library_statically(module):
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        pytest.fail(f"{module} is part of the pure core and must exist")
    assert not top(imports_of(path)) & IO_LIBS


def test_pure_core_loads_no_io_library_at_runtime():
    code = ("import sys; import " + ", ".join(PURE) +
            "; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert not loaded & {"textual", "aiohttp", "aioboto3", "aiobotocore", "botocore", "moto"}, loaded
