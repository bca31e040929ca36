"""Shared test setup: reproducible hypothesis runs, the MLPerf Tiny models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# A test run must be reproducible: hypothesis tries the same examples every
# time. HYPOTHESIS_PROFILE=explore searches with fresh seeds instead.
settings.register_profile("reproducible", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "reproducible"))

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
