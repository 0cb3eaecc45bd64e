"""The demo wires every stage through the CLI; a tiny version checks the wiring end to end."""

import json

from gaitpose.cli import main


def test_tiny_demo_produces_every_output(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "-o", str(out), "--sequences", "40", "--frames", "120", "--iterations", "2", "--no-video"])
    captured = capsys.readouterr().out
    assert code == 0, captured
    assert (out / "cohort" / "partition.json").is_file()
    assert (out / "run" / "checkpoints" / "latest.pt").is_file()
    metrics = json.loads((out / "run" / "metrics.json").read_text())
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert (out / "features.csv").is_file() and (out / "features.dictionary.csv").is_file()
    assert any((out / "report").iterdir())
    assert "=== summary" in captured
    # calibrated on the validation split, evaluated at the operating point, walks screened
    assert (out / "run" / "calibrated.pt").is_file() and (out / "run" / "calibrated.reliability.png").is_file()
    assert metrics["screening"]["calibrated"] and metrics["screening"]["operating_point"] is not None
    rows = (out / "screen" / "summary.csv").read_text().splitlines()
    assert len(rows) == 1 + 4 and all((out / "screen" / r.split(",")[0] / "report.html").is_file() for r in rows[1:])
