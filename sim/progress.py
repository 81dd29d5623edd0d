"""A progress bar on the terminal for long work; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
from contextlib import contextmanager


@contextmanager
def progress_bar(description: str):
    """Yields ``advance(done, total, description=None)`` (a new description replaces the first); draws a
    rich progress bar only on an interactive stderr."""
    if not sys.stderr.isatty():
        yield lambda done, total, description=None: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int, description: str | None = None) -> None:
            bar.update(task, completed=done, total=total, **({"description": description} if description else {}))

        yield advance
