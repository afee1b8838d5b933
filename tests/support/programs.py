"""System programs some tests need (Debian packages), found on PATH or the test skipped.

Under CI (``CI=true``) a missing program is a failure instead: ``.ci/run`` installs every one,
so a skip there would hide a suite that never ran.
"""

from __future__ import annotations

import os
import shutil

import pytest


def program_or_skip(name: str, package: str) -> str:
    """The path of ``name``, or a skip (a failure under CI) saying which package brings it."""
    found = shutil.which(name)
    if found is None:
        missing = f"{name} is not on PATH: apt-get install {package}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} (.ci/run installs it; these tests must run in CI)")
        pytest.skip(missing)
    return found
