"""The one progress bar of the ``sunledger`` commands, on a real terminal (a pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from traceability.entrypoints.cli.progress import progress_bar, show_progress, tracking

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

# A command's shape: a bar on stderr while it works, a result on stdout meanwhile.
COMMAND = """
from traceability.entrypoints.cli.progress import progress_bar
with progress_bar("crunching numbers", status=True) as progress:
    task = progress.add_task("work", total=3, status="warming up")
    print("RESULT 42", flush=True)
    for _ in range(3):
        progress.advance(task)
"""


def run_on_a_terminal(env: dict[str, str]) -> tuple[str, str]:
    """Run COMMAND with stderr on a pseudo-terminal and stdout on a pipe: (stdout, terminal)."""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", COMMAND],
            stdout=subprocess.PIPE,
            stderr=follower,
            env={**os.environ, "TERM": "xterm", "COLUMNS": "100", **env},
            timeout=60,
            check=True,
        )
    finally:
        os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other end is closed and drained
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return done.stdout.decode(), shown.decode(errors="replace")


def test_a_terminal_gets_the_bar_and_a_file_keeps_the_output() -> None:
    stdout, terminal = run_on_a_terminal({"CI": ""})
    assert "crunching numbers" in terminal
    assert "3/3" in terminal
    # stdout went to a pipe, not to the terminal the bar is drawn on.
    assert stdout == "RESULT 42\n"
    assert "RESULT 42" not in terminal


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_ci_gets_no_bar(ci: str) -> None:
    stdout, terminal = run_on_a_terminal({"CI": ci})
    assert "crunching numbers" not in terminal
    assert stdout == "RESULT 42\n"


def test_a_disabled_bar_still_tracks_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert not show_progress()
    with progress_bar("quiet", eta=False) as progress:
        advance = tracking(progress, "work")
        advance(2, 5)
        (task,) = progress.tasks
        assert (task.completed, task.total) == (2, 5)
        assert progress.disable
