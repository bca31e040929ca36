"""Run the lit/FileCheck suite (test/filecheck) as one pytest test."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).parent / "filecheck"


def test_filecheck_suite() -> None:
    # lit from the running interpreter, so the suite checks this environment's
    # tinycc-opt (lit.cfg puts this interpreter's bin/ first on PATH).
    run = subprocess.run(
        [sys.executable, "-c", "from lit.main import main; main()", "-v", str(SUITE)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = run.stdout + run.stderr
    if run.returncode != 0:
        pytest.fail(f"lit failed:\n{output}", pytrace=False)
    passed = re.search(r"Passed\s*:\s*(\d+)", output)
    if passed is None or int(passed.group(1)) == 0:
        pytest.fail(f"lit ran no tests:\n{output}", pytrace=False)
