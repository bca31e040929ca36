"""The Cortex-M toolchain and QEMU: missing is a visible skip, but a failure
under CI (scripts/setup.sh installs them)."""

from __future__ import annotations

import shutil

import pytest
from tools_testlib import missing_tool

NEEDED = {
    "arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
}


@pytest.fixture(scope="session")
def arm_qemu() -> None:
    missing = [f"{tool} ({NEEDED[tool]})" for tool in NEEDED if not shutil.which(tool)]
    if not missing:
        return
    reason = f"not installed: {', '.join(missing)}"
    missing_tool(reason)
