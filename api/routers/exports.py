"""(filled in by the exports work)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
