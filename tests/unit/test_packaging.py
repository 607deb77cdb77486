"""The installed package holds the whole program: every Python package of the tree is listed in
pyproject.toml (a generic name like `tui` cannot be auto-discovered safely), and the data files the
program reads at run time (the stylesheet, the shipped profiles) are declared as package data."""

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_with_code_is_listed():
    listed = set(CONFIG["packages"])
    found = set()
    for top in ("tui", "probe", "loadgen"):
        for path in (ROOT / top).rglob("*.py"):
            if "__pycache__" not in path.parts:
                found.add(".".join(path.parent.relative_to(ROOT).parts))
    assert found <= listed, f"unlisted: {sorted(found - listed)}"
    for package in found:
        assert (ROOT / package.replace(".", "/") / "__init__.py").exists(), f"{package} has no __init__.py"
    for package in listed - found:  # data-only packages (setuptools wants them listed too)
        assert package in CONFIG["package-data"], f"{package} is listed but holds neither code nor data"


def test_runtime_data_files_are_package_data():
    data = CONFIG["package-data"]
    needed = [p for p in ROOT.joinpath("tui").rglob("*.tcss")] + list(
        ROOT.joinpath("probe/local/profiles").glob("*.toml")
    )
    assert needed, "the stylesheet and the profiles must exist"
    for path in needed:
        rel = path.relative_to(ROOT)
        package = ".".join(rel.parent.parts)
        owner = next(
            (p for p in sorted(data, key=len, reverse=True) if package == p or package.startswith(p + ".")), None
        )
        assert owner is not None, f"{rel} is in no package with package-data"
        inside = str(rel.relative_to(owner.replace(".", "/")))
        assert any(fnmatch(inside, pattern) for pattern in data[owner]), f"{rel} matches no package-data pattern"
