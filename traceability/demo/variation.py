"""The demo's variety without randomness: a stable number from any parts, the same on
every run (which supplier, which score, which day a bin lid breaks)."""

from __future__ import annotations

import hashlib


def stable(*parts: object) -> int:
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")
