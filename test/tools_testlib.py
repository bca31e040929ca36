"""What a test does when a tool it needs is not installed."""

from __future__ import annotations

import os

import pytest


def missing_tool(reason: str) -> None:
    """Skip with `reason`; under CI (CI=true) a missing tool is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
