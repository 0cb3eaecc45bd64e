"""`gaitpose models build-task`: a PoseLandmarker bundle built offline from the mediapipe wheel."""

from __future__ import annotations

import zipfile

from gaitpose.cli import main


def test_build_task_bundle(tmp_path, capsys):
    out = tmp_path / "pose.task"
    assert main(["models", "build-task", "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert names == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]
        for name in names:
            info = zf.getinfo(name)
            assert info.compress_type == zipfile.ZIP_STORED  # MediaPipe mmaps the members
            data = zf.read(name)
            assert data[4:8] == b"TFL3"  # a TFLite flatbuffer
            assert b"TFLITE_METADATA" in data and b"image" in data  # image-input metadata added
    assert "pose_detector.tflite" in capsys.readouterr().out
    # An existing file is not overwritten without --force; no sub-command is a usage error.
    assert main(["models", "build-task", "-o", str(out)]) == 2
    assert main(["models", "build-task", "-o", str(out), "--force"]) == 0
    assert main(["models"]) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
