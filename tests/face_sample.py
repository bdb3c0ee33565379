"""Where the shared face-mask sample (real photos, with their licence) is on this machine.

``SUNLEDGER_FACE_SAMPLE`` names it; otherwise ``../shared/data/face-mask-sample`` next to
the checkout, then ``/work/shared/data/face-mask-sample``. Under ``CI=true`` a test that
needs it fails when it is missing; elsewhere it skips, saying where it looked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_CANDIDATES = [
    Path(os.environ["SUNLEDGER_FACE_SAMPLE"]) if os.environ.get("SUNLEDGER_FACE_SAMPLE") else None,
    Path(__file__).resolve().parents[2] / "shared" / "data" / "face-mask-sample",
    Path("/work/shared/data/face-mask-sample"),
]
SAMPLE = next(
    (p for p in _CANDIDATES if p is not None and p.is_dir()),
    Path("/work/shared/data/face-mask-sample"),
)


def require_sample() -> Path:
    if not (SAMPLE / "without_mask").is_dir():
        looked = ", ".join(str(p) for p in _CANDIDATES if p is not None)
        message = f"the shared face sample is missing (looked in {looked})"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return SAMPLE
