"""Progress of a long command: a bar redrawn in place on a terminal, plain lines elsewhere."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 30
REDRAW_SECONDS = 0.2
LINE_SECONDS = 5.0
LINE_STEPS = 10  # a plain line at every tenth of the total, too


class Progress:
    """Counts work done towards a total and shows the count, the rate and the time left.

    On a terminal one line is redrawn in place, a few times a second. Elsewhere
    (a log file, a pipe, CI) a plain line is written every `LINE_SECONDS`
    seconds and at every tenth of the total, so a log stays short and readable.
    """

    def __init__(
        self,
        total: int,
        label: str,
        stream: TextIO | None = None,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._total = total
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        self._terminal = self._stream.isatty() if terminal is None else terminal
        self._clock = clock
        self._started = clock()
        self._shown_at = self._started
        self._shown_step = 0
        self._shown_done = -1
        self.done = 0

    def advance(self, count: int) -> None:
        self.done += count
        now = self._clock()
        step = self.done * LINE_STEPS // self._total if self._total else LINE_STEPS
        if self._terminal:
            due = now - self._shown_at >= REDRAW_SECONDS
        else:
            due = now - self._shown_at >= LINE_SECONDS or step > self._shown_step
        if due or self.done >= self._total:
            self._show(now)
            self._shown_step = step

    def finish(self) -> None:
        """Show the final count, unless it was just shown, and end the line."""
        if self.done != self._shown_done:
            self._show(self._clock())
        if self._terminal:
            self._stream.write("\n")
            self._stream.flush()

    def _show(self, now: float) -> None:
        self._shown_at = now
        self._shown_done = self.done
        elapsed = now - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = f"ETA {_duration((self._total - self.done) / rate)}" if rate else "ETA -"
        counts = f"{self.done:,}/{self._total:,}"
        if self._terminal:
            filled = BAR_WIDTH * self.done // self._total if self._total else BAR_WIDTH
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            # \r goes back to the start of the line; \x1b[K clears what a longer line left.
            self._stream.write(f"\r{self._label} [{bar}] {counts} {rate:,.0f}/s {left}\x1b[K")
        else:
            percent = 100 * self.done // self._total if self._total else 100
            self._stream.write(
                f"{self._label}: {counts} ({percent}%), {rate:,.0f}/s, {left}, "
                f"{_duration(elapsed)} elapsed\n"
            )
        self._stream.flush()


def _duration(seconds: float) -> str:
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02}:{second:02}" if hours else f"{minute}:{second:02}"
