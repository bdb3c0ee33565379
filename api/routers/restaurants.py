"""(filled in by the restaurants work)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
