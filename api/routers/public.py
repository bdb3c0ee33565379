"""(filled in by the public work)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
