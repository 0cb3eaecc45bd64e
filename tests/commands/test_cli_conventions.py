"""The conventions every command shares (gaitpose.cli): one exit code and one kind of message
for a missing input, -j/--jobs and -q/--quiet under the same names, progress lines in a log."""

from __future__ import annotations

import argparse

import pytest

from gaitpose.cli import COMMANDS, build_parser, main

MISSING = "/nonexistent/gaitpose-missing-input"

#: per command, its arguments with MISSING in the place of an input it reads
MISSING_INPUT = {
    "info": [MISSING],
    "extract": [MISSING, "-o", "{tmp}/out"],
    "convert": [MISSING, "--to", "npz", "-o", "{tmp}/out"],
    "convert --labels": ["{tmp}", "--to", "npz", "-o", "{tmp}/out", "--labels", MISSING],
    "features": [MISSING, "-o", "{tmp}/f.csv"],
    "report": [MISSING, "-o", "{tmp}/r"],
    "report --labels": ["{tmp}/f.csv", "-o", "{tmp}/r", "--labels", MISSING],
    "train": [MISSING, "-o", "{tmp}/run"],
    "evaluate": [MISSING, "--checkpoint", "{tmp}/c.pt"],
    "evaluate --checkpoint": ["{tmp}/c.yaml", "--checkpoint", MISSING],
    "experiment": [MISSING, "-o", "{tmp}/x"],
    "calibrate": ["{tmp}/c.yaml", "--checkpoint", MISSING],
    "screen": [MISSING, "-o", "{tmp}/s"],
    "agreement": [MISSING, "{tmp}/f.csv", "-o", "{tmp}/a"],
    "agreement B": ["{tmp}/f.csv", MISSING, "-o", "{tmp}/a"],
    "train data_cfg.dataset_root": ["{tmp}/c.yaml", "--set", f"data_cfg.dataset_root={MISSING}", "-o", "{tmp}/run"],
}
#: commands that read no input file (they make one)
NO_INPUT = {"synth", "models", "demo"}


def test_every_command_is_covered():
    """A new command must say how a missing input behaves (or that it reads none)."""
    covered = {k.split()[0] for k in MISSING_INPUT} | NO_INPUT
    assert covered == set(COMMANDS)


@pytest.mark.parametrize("case", sorted(MISSING_INPUT))
def test_a_missing_input_exits_1_with_one_line(case, tmp_path, capsys):
    (tmp_path / "f.csv").write_text("id,class,x\na,negative,1\n")
    (tmp_path / "c.yaml").write_text("model_cfg: {model: ScoNet}\n")
    argv = [case.split()[0], *(a.format(tmp=tmp_path) for a in MISSING_INPUT[case])]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [ln for ln in err.splitlines() if MISSING in ln]
    assert line.startswith(f"gaitpose {argv[0]}: {MISSING}: no such file or directory")


def _options(command: str) -> dict[str, argparse.Action]:
    parser = build_parser([command])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {opt: act for act in sub.choices[command]._actions for opt in act.option_strings}


@pytest.mark.parametrize("command", ["extract", "synth", "features", "demo", "experiment"])
def test_worker_processes_are_j_jobs(command):
    opts = _options(command)
    assert opts["-j"] is opts["--jobs"] and opts["-j"].dest == "jobs"
    assert opts["-j"].default == (None if command == "experiment" else 1)  # experiment: the config's


@pytest.mark.parametrize("command", ["extract", "synth", "features", "convert", "train", "evaluate",
                                     "experiment", "demo"])
def test_progress_output_can_be_quieted(command):
    opts = _options(command)
    assert opts["-q"] is opts["--quiet"] and opts["-q"].dest == "quiet"


def test_synth_progress_in_a_log_and_its_old_flags(tmp_path, capsys):
    assert main(["synth", "-o", str(tmp_path / "a"), "--sequences", "20", "--frames", "8"]) == 0
    err = capsys.readouterr().err  # captured: not a terminal
    assert "\r" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("synth: ")]
    assert len(lines) == 10 and lines[-1].startswith("synth: 20/20 seq done in ")
    # the renamed flags still work, and say what replaces them
    assert main(["synth", "-o", str(tmp_path / "b"), "--sequences", "3", "--frames", "8", "--fps", "25",
                 "--workers", "1", "-q"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == ["gaitpose synth: --fps is deprecated, use --frame-rate",
                                "gaitpose synth: --workers is deprecated, use -j/--jobs"]
    assert '"fps": 25.0' in (tmp_path / "b" / "cohort.json").read_text()


def test_features_says_when_fps_is_not_used(tmp_path, capsys):
    from gaitpose.features.constructed import walker
    from gaitpose.io import Sequence, save_sequence

    kp = walker(view="front", noise=0.5, seed=1)
    save_sequence(tmp_path / "a.npz", Sequence(keypoints=kp, fps=30.0, image_size=(720, 1280)))
    assert main(["features", str(tmp_path / "a.npz"), "-o", str(tmp_path / "f.csv"), "--fps", "25", "-q"]) == 0
    err = capsys.readouterr().err
    assert "--fps 25 not used: every input stores its frame rate" in err
