"""The wheel carries every file the application reads: code, templates, static files, catalogues, migrations, data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Top-level folders of the source tree and where the wheel installs them.
SHIPPED = {"app": "app", "carnet": "carnet", "workshops": "workshops", "templates": "app/templates", "static": "app/static"}
# What a checkout holds besides its sources (see .gitignore); the copy the wheel is built from leaves it out.
LOCAL = {".git", ".venv", "build", "dist", "instance", "data", ".pytest_cache", ".hypothesis", ".ruff_cache"}


def not_source(directory: str, names: list[str]) -> set[str]:
    """Name what copying the checkout leaves out: local state at its top, caches and build metadata anywhere."""
    top = Path(directory).resolve() == ROOT
    return {n for n in names if (top and n in LOCAL) or n == "__pycache__" or n.endswith((".pyc", ".egg-info"))}


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> set[str]:
    """Build the wheel as `pip install .` does and return the paths it holds."""
    base = tmp_path_factory.mktemp("wheel")
    # A copy of the tree: setuptools would otherwise reuse ./build, whose stale files can hide a missing one.
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=not_source)
    out = base / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = out.glob("rouages-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def source_files() -> dict[str, str]:
    """Map each file of the shipped folders to its path inside the wheel."""
    found = {}
    for folder, target in SHIPPED.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                relative = path.relative_to(ROOT / folder).as_posix()
                found[f"{folder}/{relative}"] = f"{target}/{relative}"
    return found


@pytest.mark.parametrize("path", [
    "app/templates/organiser/login.html",
    "app/templates/phone.html",
    "app/static/css/base.css",
    "app/static/js/socket.js",
    "app/translations/fr/LC_MESSAGES/messages.mo",
    "app/translations/fr/LC_MESSAGES/messages.po",
    "app/migrations/alembic.ini",
    "app/migrations/script.py.mako",
    "app/migrations/env.py",
    "app/migrations/versions/0001_initial_schema.py",
    "app/data/demo.yaml",
    "app/data/event.schema.json",
    "app/data/frameworks.yaml",
])
def test_the_wheel_holds_what_the_demo_reads(wheel_files, path):
    assert path in wheel_files


def test_every_file_of_the_shipped_folders_is_in_the_wheel(wheel_files):
    missing = sorted(source for source, target in source_files().items() if target not in wheel_files)
    assert missing == [], "add the package or its files to [tool.setuptools] in pyproject.toml"


def test_nothing_lands_at_the_top_of_site_packages_but_our_packages(wheel_files):
    tops = {name.split("/")[0] for name in wheel_files if not name.startswith("rouages-")}
    assert tops == {"app", "carnet", "workshops"}
