"""Shared fixtures: the MLPerf Tiny models of `../shared/models`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_MODELS = Path(
    os.environ.get(
        "TINYCC_SHARED_MODELS",
        Path(__file__).resolve().parents[2] / "shared" / "models",
    )
)


@pytest.fixture(scope="session")
def shared_models() -> Path:
    """The folder of real trained models; absent outside CI is a visible skip,
    absent under CI=true a failure."""
    if SHARED_MODELS.is_dir():
        return SHARED_MODELS
    if os.environ.get("CI") == "true":
        pytest.fail(f"{SHARED_MODELS} is missing (CI must provide ../shared/models)")
    pytest.skip(f"no MLPerf Tiny models at {SHARED_MODELS}")
