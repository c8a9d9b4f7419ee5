"""Fixtures shared by the whole suite: the real-data folder and small geometry helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get("TAAMIR_SHARED_DATA", Path(__file__).resolve().parent.parent.parent / "shared" / "data")
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real public files (../shared/data); tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real-data folder {SHARED_DATA} is absent (set TAAMIR_SHARED_DATA to point at it)")
    return SHARED_DATA
