"""gaitpose.progress: plain lines in a log, nothing with --quiet, a bar only on a terminal."""

from __future__ import annotations

import io

from gaitpose.progress import Progress, is_terminal, track


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_log_gets_a_line_per_tenth_and_no_carriage_return():
    out = io.StringIO()
    with Progress(total=300, desc="train run1", unit="it", stream=out) as bar:
        for _ in range(300):
            bar.update()
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    # 10 %, 20 %, ... 90 % and the closing line: 10 lines for 300 updates
    assert len(lines) == 10
    assert lines[0].startswith("train run1: 30/300 it (10 %)")
    assert lines[8].startswith("train run1: 270/300 it (90 %)")
    assert lines[-1].startswith("train run1: 300/300 it done in ")


def test_small_total_never_more_lines_than_updates():
    out = io.StringIO()
    with Progress(total=3, desc="synth", unit="seq", stream=out) as bar:
        for _ in range(3):
            bar.update()
    lines = out.getvalue().splitlines()
    assert lines == [lines[0], lines[1], lines[2]]
    assert lines[0].startswith("synth: 1/3 seq (33 %)")
    assert lines[-1].startswith("synth: 3/3 seq done")


def test_unknown_total_writes_every_n_seconds():
    out, clock = io.StringIO(), FakeClock()
    bar = Progress(total=None, desc="evaluate", unit="seq", stream=out, every_s=30, clock=clock)
    for _ in range(100):  # one unit per second: a line at 30, 60, 90 s
        clock.t += 1
        bar.update()
    bar.close()
    lines = out.getvalue().splitlines()
    assert [ln.split(",")[0] for ln in lines[:-1]] == [
        "evaluate: 30 seq",
        "evaluate: 60 seq",
        "evaluate: 90 seq",
    ]
    assert lines[-1] == "evaluate: 100 seq done in 100 s"


def test_resume_counts_time_left_from_the_work_done_here():
    out, clock = io.StringIO(), FakeClock()
    bar = Progress(total=100, initial=50, desc="train", stream=out, clock=clock)
    for _ in range(10):
        clock.t += 2  # 2 s per iteration
        bar.update()
    bar.set_postfix(loss="0.412")
    bar.close()
    lines = out.getvalue().splitlines()
    # 60 % reached after 10 iterations (20 s): 40 left at 2 s each
    assert lines[0] == "train: 60/100 it (60 %), 20 s elapsed, about 80 s left"
    assert lines[-1] == "train: 60/100 it stopped in 20 s; loss=0.412"


def test_quick_work_of_unknown_length_says_nothing():
    out = io.StringIO()
    with Progress(total=None, desc="convert", stream=out) as bar:
        bar.update(5)
    assert out.getvalue() == ""


def test_quiet_and_inner_bars_are_silent_in_a_log():
    out = io.StringIO()
    for kwargs in ({"enabled": False}, {"inner": True}):
        with Progress(total=10, desc="x", stream=out, **kwargs) as bar:
            for _ in range(10):
                bar.update()
    assert out.getvalue() == ""


def test_write_goes_through_in_every_mode():
    out = io.StringIO()
    Progress(total=1, stream=out, enabled=False).write("gaitpose x: a.npz: broken")
    assert out.getvalue() == "gaitpose x: a.npz: broken\n"


def test_terminal_uses_a_bar():
    out = io.StringIO()
    bar = Progress(total=5, desc="bar", stream=out, terminal=True)
    assert bar.mode == "bar"
    for _ in range(5):
        bar.update()
    bar.close()
    assert "5/5" in out.getvalue()
    assert not is_terminal(out)


def test_track_yields_every_item():
    out = io.StringIO()
    assert list(track(range(20), desc="t", stream=out)) == list(range(20))
    assert out.getvalue().splitlines()[-1].startswith("t: 20/20 it done")
