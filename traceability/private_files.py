"""Files that hold private keys: created 0600 from the start, refused when others can read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from traceability.errors import Invalid


def create_private_file(path: Path, text: str) -> None:
    """Create ``path`` with ``text``, mode 0o600 from the start (never wider, even briefly).

    Raises :class:`FileExistsError` when ``path`` exists (also as a symbolic
    link); a failed write leaves no file behind. Other OS errors propagate.
    """
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except BaseException:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise


def read_private_file(path: Path, what: str) -> bytes:
    """The bytes of a private file; ``Invalid`` naming ``what`` and the path (never the
    content) when it is not a regular file or (on POSIX) group or others may access it."""
    with open(path, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Invalid(f"{what} {path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if os.name == "posix" and mode & 0o077:
            raise Invalid(
                f"{what} {path} has mode {mode:#o}, which allows group/other access; "
                f"run chmod 600 {path}"
            )
        return handle.read()
