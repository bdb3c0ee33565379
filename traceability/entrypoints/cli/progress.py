"""The one progress bar of the ``sunledger`` commands: rich on a terminal, quiet in CI and pipes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from traceability.entrypoints.cli.console import err


def show_progress() -> bool:
    """A progress bar on a terminal, quiet in CI and pipes."""
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")


def progress_bar(
    label: str, *, status: bool = False, eta: bool = True, transient: bool = False
) -> Progress:
    """A bar on stderr: ``label``, the bar, done/total, then the ``status`` field of the task
    (with ``status=True``) and the time remaining (unless ``eta=False``).

    Disabled, so silent, unless ``show_progress()``; use it as a context manager. While it
    shows, what a command prints on a terminal's stdout is drawn above the bar; stdout
    sent to a file or a pipe stays there.
    """
    columns: list[ProgressColumn] = [TextColumn(label), BarColumn(), MofNCompleteColumn()]
    if status:
        columns.append(TextColumn("{task.fields[status]}"))
    if eta:
        columns.append(TimeRemainingColumn())
    return Progress(
        *columns,
        console=err,
        disable=not show_progress(),
        transient=transient,
        redirect_stdout=sys.stdout.isatty(),
    )


def tracking(progress: Progress, name: str) -> Callable[[int, int], None]:
    """A new task of ``progress`` (total unknown yet) and the ``on_progress(done, total)``
    callback that moves it."""
    task = progress.add_task(name, total=None)

    def advance(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return advance
