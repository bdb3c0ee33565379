"""(filled in by the alerts work)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
