"""Progress of long work: a bar on a terminal, a few plain lines in a log.

Every command's long loop (training iterations, evaluated sequences, synthetic sequences,
feature rows, extracted videos, experiment cells) reports through :class:`Progress`:

- stderr is a terminal: a tqdm bar, redrawn in place;
- stderr is a file, a pipe or a scheduler log: one plain line each time another tenth of the
  work is done, or every ``every_s`` seconds when there is no total (or the work is slow), and
  one line at the end (with no total, only when lines came before); never a carriage return;
- ``enabled=False`` (a command's ``--quiet``): nothing.

Example::

    with Progress(total=len(items), desc="features", unit="seq", enabled=not args.quiet) as bar:
        for item in items:
            ...
            bar.update()

A log then reads ``features: 30/300 seq (10 %), 4 s elapsed, about 36 s left`` … ten lines …
``features: 300/300 seq done in 40 s``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO, TypeVar

T = TypeVar("T")


def is_terminal(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default: stderr) is an interactive terminal."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a file
        return False


def _seconds(s: float) -> str:
    s = max(0.0, s)
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


class Progress:
    """A progress indicator that suits where stderr goes (see the module docstring).

    Args:
        total: units of work (None: unknown).
        desc: what is being done, first word of every line (e.g. ``"train run1"``).
        unit: name of one unit (``"it"``, ``"seq"``, ``"video"``).
        enabled: False shows nothing (``--quiet``, a worker process, a non-zero rank).
        initial: units already done (a resumed training).
        stream: where to write (default stderr).
        terminal: force bar (True) or plain lines (False); default: ``stream`` is a terminal.
        inner: an inner bar (e.g. frames of one video under a bar of videos): shown on a
            terminal only, silent in a log, where the outer indicator already reports.
        every_s: in a log, also write a line after this many seconds without one.
        position: tqdm line for stacked bars on a terminal.
        clock: time source (tests).
    """

    def __init__(
        self,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        *,
        enabled: bool = True,
        initial: int = 0,
        stream: TextIO | None = None,
        terminal: bool | None = None,
        inner: bool = False,
        every_s: float = 60.0,
        position: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.n = initial
        self.stream = sys.stderr if stream is None else stream
        self.every_s = every_s
        self._initial = initial
        self._clock = clock
        self._t0 = self._last_t = clock()
        self._postfix = ""
        self._printed = 0  # plain lines written
        self._closed = False
        self._bar = None
        terminal = is_terminal(self.stream) if terminal is None else terminal
        self.mode = "off" if not enabled else "bar" if terminal else "off" if inner else "lines"
        self._next_step = self._step_after(initial)
        if self.mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, initial=initial, desc=desc, unit=unit, file=self.stream,
                dynamic_ncols=True, position=position, leave=not inner,
            )  # fmt: skip

    # ---------------------------------------------------------------------------------- updates
    def update(self, n: int = 1) -> None:
        """``n`` more units done."""
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "lines":
            self._maybe_line()

    def set_postfix(self, refresh: bool = True, **fields: Any) -> None:
        """Figures shown after the count (e.g. ``loss=0.41``), on the bar or in the next line."""
        if self._bar is not None:
            self._bar.set_postfix(refresh=refresh, **fields)
        self._postfix = ", ".join(f"{k}={v}" for k, v in fields.items())

    def reset(self, total: int | None = None, desc: str | None = None) -> None:
        """Start again from zero (an inner bar reused for the next item)."""
        self.total, self.n = total, 0
        self._initial = 0
        self._t0 = self._last_t = self._clock()
        self._next_step = self._step_after(0)
        if desc is not None:
            self.desc = desc
        if self._bar is not None:
            self._bar.reset(total=total)
            if desc is not None:
                self._bar.set_description_str(desc)

    def write(self, line: str) -> None:
        """Print a message line (an error, a result) without breaking the bar."""
        if self._bar is not None:
            from tqdm import tqdm

            tqdm.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        """Finish: remove/complete the bar, or write the closing line in a log."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "lines" and (self._printed if self.total is None else self.n > self._initial):
            self._line(final=True)  # unknown total: only after progress lines (quick work stays quiet)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------- plain lines
    def _step_after(self, n: int) -> int | None:
        """The next count at which another tenth of ``total`` is reached (None: no total)."""
        if not self.total:
            return None
        tenth = int(10 * n / self.total) + 1
        return -(-tenth * self.total // 10)  # ceil(tenth * total / 10)

    def _maybe_line(self) -> None:
        now = self._clock()
        step = self._next_step is not None and self.n >= self._next_step
        if self.total is not None and self.n >= self.total:
            return  # the closing line says it
        if step or now - self._last_t >= self.every_s:
            self._line(final=False)
            self._next_step = self._step_after(self.n)

    def _line(self, final: bool) -> None:
        self._printed += 1
        now = self._clock()
        self._last_t = now
        elapsed = now - self._t0
        count = (
            f"{self.n}/{self.total} {self.unit}"
            if self.total is not None
            else f"{self.n} {self.unit}"
        )
        if final:
            state = "done" if self.total is None or self.n >= self.total else "stopped"
            text = f"{self.desc}: {count} {state} in {_seconds(elapsed)}"
        else:
            text = f"{self.desc}: {count}"
            if self.total:
                text += f" ({100 * self.n // self.total} %)"
            text += f", {_seconds(elapsed)} elapsed"
            done = self.n - self._initial
            if self.total and done > 0:
                text += f", about {_seconds(elapsed / done * (self.total - self.n))} left"
        if self._postfix:
            text += f"; {self._postfix}"
        print(text, file=self.stream, flush=True)


def track(
    items: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it", **kwargs: Any
) -> Iterator[T]:
    """Iterate ``items`` with a :class:`Progress` (``total`` defaults to ``len(items)``)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(total=total, desc=desc, unit=unit, **kwargs) as bar:
        for item in items:
            yield item
            bar.update()
