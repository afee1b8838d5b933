"""The package as a release would build it: a wheel with the code and assets, and nothing else."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from perfmon import __version__
from tests.support.processes import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """``python -m build --wheel`` from a copy of the tracked files, as a clean clone would."""
    out = tmp_path_factory.mktemp("dist")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    source = tmp_path_factory.mktemp("clone")
    for name in filter(None, files.decode().split("\0")):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            target.write_bytes((ROOT / name).read_bytes())
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (built,) = out.glob("perfmon-*.whl")
    return zipfile.ZipFile(built)


def metadata(wheel: zipfile.ZipFile) -> str:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    return wheel.read(name).decode()


def test_the_wheel_holds_the_package_and_its_assets_only(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    assert "perfmon/cli.py" in names and "perfmon/core/schema.py" in names
    assert "perfmon/ui/assets/perfmon.js" in names and "perfmon/ui/assets/perfmon.css" in names
    assert "perfmon/runtime/perfmon.service" in names  # the template of `perfmon install-unit`
    assert not [n for n in names if n.startswith(("bench/", "tests/", "deploy/", "docs/"))]
    assert not [n for n in names if n.endswith(".py") and not n.startswith("perfmon/")]


def test_the_wheel_has_the_version_licence_dependencies_and_command(wheel: zipfile.ZipFile) -> None:
    text = metadata(wheel)
    assert f"\nVersion: {__version__}\n" in text
    assert "MIT" in text
    requirements = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
                    if line and not line.startswith("#")]
    for requirement in requirements:
        name = requirement.split(">")[0].split("=")[0].split("<")[0]
        assert f"Requires-Dist: {name}" in text, requirement
    entry_points = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    assert "perfmon = perfmon.cli:main" in wheel.read(entry_points).decode()


def test_every_runtime_dependency_is_justified_on_the_line_above() -> None:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    for number, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert number > 0 and lines[number - 1].startswith("# ") and len(lines[number - 1]) > 12, line
            assert "<" in line and ">=" in line, f"{line}: pin a compatible range"
