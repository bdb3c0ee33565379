"""(filled in by the regulator work)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
