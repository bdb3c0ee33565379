"""The log's side of tlog-witness: one ``add-checkpoint`` request (standard library)."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class WitnessAnswer:
    """``status`` 200 with ``lines``; 409 with ``known_size``; another status with
    ``detail``; status 0 when the witness could not be reached."""

    status: int
    lines: tuple[str, ...] = ()
    known_size: int | None = None
    detail: str = ""


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    lines = "".join(base64.b64encode(h).decode("ascii") + "\n" for h in proof)
    return f"old {old_size}\n{lines}\n{note}".encode()


def add_checkpoint(
    url: str, old_size: int, proof: Sequence[bytes], note: str, timeout: float = 10.0
) -> WitnessAnswer:
    """POST ``<url>/add-checkpoint`` and classify the answer."""
    request = urllib.request.Request(
        url.rstrip("/") + "/add-checkpoint",
        data=add_checkpoint_body(old_size, proof, note),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read(1 << 16).decode("utf-8", "replace")
            lines = tuple(line for line in text.split("\n") if line)
            return WitnessAnswer(200, lines=lines)
    except urllib.error.HTTPError as exc:
        text = exc.read(1 << 12).decode("utf-8", "replace").strip()
        if exc.code == 409 and text.isdigit():
            return WitnessAnswer(409, known_size=int(text), detail=f"witness knows size {text}")
        return WitnessAnswer(exc.code, detail=text[:300] or exc.reason)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return WitnessAnswer(0, detail=f"{url} unreachable: {exc}")
