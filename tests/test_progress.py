"""The progress bar draws on a terminal and stays quiet otherwise."""

import io
import sys

from sim.progress import progress_bar


def test_quiet_when_not_a_terminal(capsys):
    with progress_bar("runs") as advance:
        advance(1, 2)
        advance(2, 2)
    assert capsys.readouterr() == ("", "")


def test_draws_on_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    fake = Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    with progress_bar("seed-example: 4 run(s)") as advance:
        advance(4, 4)
    assert "seed-example: 4 run(s)" in fake.getvalue()
