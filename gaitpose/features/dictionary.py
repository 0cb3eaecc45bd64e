"""The data dictionary: one row per exported column (unit, definition, keypoints per layout,
valid view, source, clinical caveats).

``[E]`` marks measures established in the literature or an open tool, ``[S]`` a reasonable
choice made here (ASYMMETRY.md). :func:`dictionary_rows` raises ``KeyError`` for a column it
does not describe, so the exporter can never write an undocumented column.
"""

from __future__ import annotations

from graphs.layouts import get_layout

__all__ = ["CAVEATS", "DICTIONARY_FIELDS", "describe", "dictionary_rows"]

DICTIONARY_FIELDS = (
    "column", "unit", "definition", "keypoints_mediapipe33", "keypoints_coco17",
    "valid_view", "source", "caveats",
)  # fmt: skip

CAVEATS = (
    "Keypoint features are surrogates (hip joint centres are not iliac crests, mid-shoulder is "
    "not C7) and are not validated against radiographs for walking video. Published correlations "
    "of photographic shoulder-height angle with radiographs are moderate (r ~ 0.4-0.5, Matamalas "
    "2014). Scoliosis gait differences reported in the literature are small (reduced frontal "
    "pelvic and shoulder motion; Kim 2020, Mahaudens 2010); asymmetry indices alone are weak "
    "classifiers."
)
_TILT_CAVEAT = (
    "Camera roll adds a constant; keypoints are de-rotated by qc_camera_roll_deg (leg-axis "
    "estimate, [S]) unless --no-roll-correction; shoulder_pelvis_tilt cancels roll anyway."
)
_PROXY = "Hip joint centres are a proxy for the iliac crests."
_AGREEMENT = (
    "Agreement measured (experiments/validation/results/real_motion.md): 3 real walking trials "
    "(3D markers, gaitkit) projected to front/back cameras at 30 fps with 2 px keypoint noise; "
    "the per-stride mean against the 3D {what} averaged over the same frames."
)
_PO_AGREEMENT = _AGREEMENT.format(what="hip-marker line angle") + (
    " Bias -0.45 to +0.44 deg, 95 % limits of agreement within -3.2 to +2.3 deg; ICC(2,1) "
    "<= 0.23 (the three subjects hardly differ in obliquity, so ICC says little). Not measured: "
    "agreement with the iliac crests, with radiographs, or on MediaPipe output of real video."
)
_ST_AGREEMENT = _AGREEMENT.format(what="shoulder-marker line angle") + (
    " Bias -0.01 to +0.09 deg, 95 % limits of agreement about +-1.3 deg; ICC(2,1) 0.73-0.76 "
    "(2 trials with shoulder markers). Not measured: agreement with radiographs or on "
    "MediaPipe output of real video."
)
_2D = "2-D projection: out-of-plane rotation and perspective change the value."

# stem: (unit, definition, joints, view, source, caveat)
_SIGNALS: dict[str, tuple[str, str, tuple[str, ...], str, str, str]] = {
    "shoulder_tilt": (
        "deg",
        "tilt of the shoulder line atan2(y_R - y_L, |x_L - x_R|), positive = subject's left higher",
        ("left_shoulder", "right_shoulder"),
        "front/back",
        "[E] shoulder height angle (Matamalas 2014; photogrammetry)",
        f"{_TILT_CAVEAT} {_ST_AGREEMENT}",
    ),
    "shoulder_height_diff": (
        "% torso",
        "(y_R - y_L) of the shoulders / torso length x 100, positive = left higher",
        ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
        "front/back",
        "[E] shoulder height difference (Matamalas 2014), torso-normalised [S]",
        _TILT_CAVEAT,
    ),
    "pelvic_obliquity": (
        "deg",
        "tilt of the hip line (hip joint centres), positive = subject's left higher",
        ("left_hip", "right_hip"),
        "front/back",
        "[E] frontal pelvic obliquity (Mahaudens 2010, Kim 2020); keypoint proxy [S]",
        f"{_PROXY} {_TILT_CAVEAT} {_PO_AGREEMENT}",
    ),
    "shoulder_pelvis_tilt": (
        "deg",
        "shoulder_tilt - pelvic_obliquity per frame (cancels camera roll)",
        ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
        "front/back",
        "[S] ASYMMETRY.md",
        _PROXY,
    ),
    "trunk_lateral_lean": (
        "deg",
        "s * atan2(x_midshoulder - x_midhip, y_midhip - y_midshoulder), positive = lean to subject's left",
        ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
        "front/back",
        "[E] trunk lateral flexion in gait (2-D proxy [S])",
        f"Mid-shoulder is not C7. {_TILT_CAVEAT}",
    ),
    "trunk_shift": (
        "% torso",
        "s * (x_midshoulder - x_midhip) / torso length x 100, positive = shoulders towards subject's left",
        ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
        "front/back",
        "[E] trunk shift (clinical scoliosis examination); keypoint proxy [S]",
        "Mid-shoulder is not C7.",
    ),
    "head_pelvis_offset": (
        "% torso",
        "s * (x_mid-ear - x_midhip) / torso length x 100 (coronal balance proxy)",
        ("left_ear", "right_ear", "left_hip", "right_hip"),
        "front/back",
        "[S] proxy of the C7 plumb line to sacrum distance",
        "Head turns move the ears.",
    ),
    "head_tilt": (
        "deg",
        "tilt of the ear line, positive = subject's left ear higher",
        ("left_ear", "right_ear"),
        "front/back",
        "[S]",
        _TILT_CAVEAT,
    ),
    "thoracopelvic_twist": (
        "deg",
        "shoulder-line minus hip-line angle in the horizontal plane from world landmarks, "
        "positive = left shoulder forward (needs world landmarks: MediaPipe Sequence files)",
        ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
        "front/back",
        "[S] experimental: monocular 3-D",
        "Monocular depth is unreliable; NaN without world landmarks.",
    ),
}

_STATS = {
    "median": (
        "median over strides of the stride mean of {d} (median over frames when no complete stride and the signal is valid in >= 50 % of frames)",
        "",
    ),
    "mean": (
        "mean over strides of the stride mean of {d} (lower variance than the median with few "
        "strides; mean over frames when no complete stride and the signal is valid in >= 50 % of frames)",
        "",
    ),
    "abs_median": ("median over strides of the stride mean of |{d}|", ""),
    "iqr": (
        "interquartile range over valid frames of {d} (NaN when valid in < 50 % of frames)",
        "",
    ),
    "lhs_minus_rhs": ("mean of {d} at left heel strikes minus mean at right heel strikes", ""),
}

_EVENT_JOINTS = (
    "left_ankle", "right_ankle", "left_hip", "right_hip", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)  # fmt: skip
_EVENTS_SRC = (
    "heel strikes: front/back [S] the peak of each foot's toe-up pitch (image-vertical heel minus "
    "toe over the torso length; the foot is dorsiflexed at heel strike), the first near-top peak "
    "after each toe-off; without toe keypoints (COCO-17: ankles) or when the pitch gives no "
    "alternating walk, the frame each heel comes to rest in the image after a swing "
    "(velocity-threshold idea of Ghoussayni 2004 / O'Connor 2007); side [E] Zeni 2008 (heel "
    "minus pelvis)"
)
_EVENTS_NOTE = (
    "Validated against Zeni heel strikes on the 3D heel markers of 3 real walking trials "
    "projected to 2-D at 30 fps (experiments/validation/results/real_motion.md): mean absolute "
    "error 0.021 s front, 0.021 s back, 0.011 s side (max 0.08, 0.08, 0.04 s), cadence within "
    "2.8 % (front, back) and 1.8 % (side); the 3D foot-pitch peak lies within 0.07 s of the Zeni "
    "heel strike. The heel-rest fallback (qc_event_method = frontal_rest) is weaker in back views "
    "(max 0.19 s, cadence up to 13.5 %); when the feet never come to rest either "
    "(frontal_extrema) the withdrawn ankle-height-difference rule is used, which fires about "
    "0.19 s late on the same real walks."
)

# column: (unit, definition, joints, view, source, caveat)
_OTHERS: dict[str, tuple[str, str, tuple[str, ...], str, str, str]] = {
    "shoulder_tilt_rom_median": (
        "deg",
        "median over strides of the per-stride range (max - min) of shoulder_tilt",
        ("left_shoulder", "right_shoulder"),
        "front/back",
        "[E] reduced frontal shoulder motion (Kim 2020)",
        "",
    ),
    "pelvic_obliquity_rom_median": (
        "deg",
        "median over strides of the per-stride range (max - min) of pelvic_obliquity",
        ("left_hip", "right_hip"),
        "front/back",
        "[E] reduced frontal pelvic motion (Mahaudens 2010, Kim 2020)",
        _PROXY,
    ),
    "ml_sway_median": (
        "ratio",
        "median over strides of the range of the linearly detrended x of the mid-hip / hip width",
        ("left_hip", "right_hip"),
        "front/back",
        "[S] medio-lateral pelvic sway",
        "",
    ),
    "step_time_left_mean": (
        "s",
        "mean time from a right heel strike to the next left heel strike",
        _EVENT_JOINTS,
        "any",
        _EVENTS_SRC,
        _EVENTS_NOTE,
    ),
    "step_time_right_mean": (
        "s",
        "mean time from a left heel strike to the next right heel strike",
        _EVENT_JOINTS,
        "any",
        _EVENTS_SRC,
        _EVENTS_NOTE,
    ),
    "stride_time_mean": (
        "s",
        "mean time between consecutive heel strikes of the same foot",
        _EVENT_JOINTS,
        "any",
        _EVENTS_SRC,
        _EVENTS_NOTE,
    ),
    "cadence_mean": (
        "steps/min",
        "120 / stride_time_mean",
        _EVENT_JOINTS,
        "any",
        _EVENTS_SRC,
        _EVENTS_NOTE,
    ),
    "step_time_asymmetry_ga": (
        "%",
        "gait asymmetry |ln(step_time_left / step_time_right)| x 100",
        _EVENT_JOINTS,
        "any",
        "[E] Plotnik 2007",
        _EVENTS_NOTE,
    ),
    "step_time_asymmetry_si": (
        "%",
        "symmetry index 2|L - R| / (L + R) x 100 of the mean step times",
        _EVENT_JOINTS,
        "any",
        "[E] Robinson 1987",
        _EVENTS_NOTE,
    ),
    "stance_time_left_mean": (
        "s",
        "mean time from a left heel strike to the next left toe-off (side view only)",
        ("left_heel", "left_foot_index", "left_hip", "right_hip"),
        "side",
        "[E] Zeni 2008",
        "COCO-17 has no heels/toes: NaN. NaN for front/back views (toe-off not reliable).",
    ),
    "stance_time_right_mean": (
        "s",
        "mean time from a right heel strike to the next right toe-off (side view only)",
        ("right_heel", "right_foot_index", "left_hip", "right_hip"),
        "side",
        "[E] Zeni 2008",
        "COCO-17 has no heels/toes: NaN. NaN for front/back views (toe-off not reliable).",
    ),
}
for _lr in ("left", "right"):
    _OTHERS[f"arm_swing_{_lr}_median"] = (
        "ratio",
        f"median over strides of the range of the {_lr} wrist relative to the {_lr} shoulder "
        "along its main direction / arm length (shoulder-elbow + elbow-wrist)",
        (f"{_lr}_shoulder", f"{_lr}_elbow", f"{_lr}_wrist"),
        "any (side best)",
        "[S] 2-D arm swing",
        _2D,
    )
    for _j, _def in (("hip", "trunk-thigh angle"), ("knee", "thigh-shank angle")):
        _OTHERS[f"{_j}_rom_{_lr}_median"] = (
            "deg",
            f"median over strides of the per-stride range of the {_lr} 2-D {_def} (sagittal)",
            (f"{_lr}_hip", f"{_lr}_knee", f"{_lr}_ankle", "left_shoulder", "right_shoulder"),
            "side",
            "[E] sagittal ROM from 2-D video (Stenum 2021)",
            f"{_2D} NaN for front/back views.",
        )
_OTHERS["arm_swing_asymmetry_si"] = (
    "%",
    "symmetry index 2|L - R| / (L + R) x 100 of arm_swing_left/right_median",
    ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"),
    "any (side best)",
    "[E] Robinson 1987 (index); arm-swing measure [S]",
    _2D,
)
for _j in ("hip", "knee"):
    _OTHERS[f"{_j}_rom_si"] = (
        "%",
        f"symmetry index 2|L - R| / (L + R) x 100 of {_j}_rom_left/right_median",
        ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"),
        "side",
        "[E] Robinson 1987",
        _2D,
    )

_KEYS: dict[str, tuple[str, str]] = {
    "id": ("", "sequence id: the OpenGait id (see view), or the Sequence file name"),
    "class": (
        "",
        "class label when known (negative / neutral / positive), from the tree or the file's meta",
    ),
    "view": ("", "OpenGait view folder name, empty for Sequence files"),
    "source": ("", "input file"),
    "usable": ("bool", "the sequence passes the QC checks below"),
    "usable_reason": ("", "why usable is false (empty when true)"),
    "qc_layout": ("", "keypoint layout (mediapipe33 or coco17)"),
    "qc_fps": ("Hz", "frames per second"),
    "qc_frames": ("frames", "number of frames"),
    "qc_duration_s": ("s", "frames / fps"),
    "qc_person_fraction": (
        "fraction",
        "frames with a detected person and at least one valid keypoint",
    ),
    "qc_interpolated_fraction": (
        "fraction",
        "samples of the required keypoints filled by interpolation",
    ),
    "qc_longest_gap_s": (
        "s",
        "longest run of frames with a required keypoint missing (before interpolation)",
    ),
    "qc_facing": (
        "",
        "front / back / side when >= 70 % of frames agree, else mixed; unknown without trunk keypoints",
    ),
    "qc_front_fraction": (
        "fraction",
        "frames facing the camera (s = +1, body width >= 0.25 torso)",
    ),
    "qc_back_fraction": ("fraction", "frames seen from behind"),
    "qc_side_fraction": ("fraction", "frames seen from the side (|body width| < 0.25 torso)"),
    "qc_camera_roll_deg": (
        "deg",
        "camera roll estimate [S]: minus the median over front/back frames of the mean hip-to-ankle "
        "axis angle of both legs (legs swing in the sagittal plane, so their mean axis is vertical "
        "for a level camera); positive = image rotated clockwise (subject's left lowered when facing "
        "the camera). Front/back keypoints are de-rotated by it before the features.",
    ),
    "qc_event_method": (
        "",
        "gait event method: frontal_pitch (front/back: toe-up foot-pitch peak), frontal_rest "
        "(fallback: heel comes to rest), frontal_extrema "
        "(fallback when the feet never rest: ankle-height-difference extrema, late on real "
        "walking), side (Zeni 2008) or none",
    ),
    "qc_track_jumps": (
        "count",
        "jumps of the tracked person: the mid-hip moves more than 0.5 + 3 x gap (s) torso lengths "
        "between consecutive detected frames (another person or a cut); no smoothing, "
        "interpolation or stride spans a jump; any jump makes the row not usable",
    ),
    "qc_lr_swaps": (
        "count",
        "left/right label swaps found and corrected at extraction (`gaitpose extract`: runs of frames "
        "whose pose matched the previous frame much better mirrored); empty when the input does not "
        "record it",
    ),
    "qc_strides_left": ("count", "complete left strides"),
    "qc_strides_right": ("count", "complete right strides"),
    "qc_feature_basis": (
        "",
        "strides: medians over strides; frames: no complete stride, medians over frames",
    ),
}


def _kp(joints: tuple[str, ...], layout: str) -> str:
    lay = get_layout(layout)
    present = [f"{j}({lay.index(j)})" for j in joints if lay.has(j)]
    missing = [j for j in joints if not lay.has(j)]
    if not missing:
        return " ".join(present)
    if all(("heel" in m or "foot_index" in m) for m in missing) and any("ankle" in j for j in joints):
        return " ".join(present) + " (no heels/toes: ankles used, heel-rest rule)"
    if (
        all("heel" in m for m in missing)
        and any("heel" in j for j in joints)
        and not any("foot_index" in j for j in joints)
    ):
        return " ".join(present) + " (no heels: ankles used)"
    return " ".join(present) + f" (layout lacks {', '.join(missing)}: NaN)"


def describe(column: str) -> dict[str, str]:
    """The dictionary row of one column (``KeyError`` when the column is unknown)."""
    row = dict.fromkeys(DICTIONARY_FIELDS, "")
    row["column"] = column
    if column in _KEYS:
        row["unit"], row["definition"] = _KEYS[column]
        row["valid_view"] = "any"
        row["source"] = "QC [S]" if column.startswith("qc_") or column.startswith("usable") else ""
        return row
    if column.startswith("qc_valid_"):
        joint = column[len("qc_valid_") :]
        row.update(
            unit="fraction",
            definition=f"frames where {joint} has score >= min-score",
            valid_view="any",
        )
        row["keypoints_mediapipe33"] = _kp((joint,), "mediapipe33")
        row["keypoints_coco17"] = _kp((joint,), "coco17")
        row["source"] = "QC [S]"
        return row
    spec = _OTHERS.get(column)
    if spec is None:
        for stem, sig in _SIGNALS.items():
            for stat, (tmpl, _) in _STATS.items():
                if column == f"{stem}_{stat}":
                    unit, d, joints, view, src, cav = sig
                    spec = (unit, tmpl.format(d=f"{stem} ({d})"), joints, view, src, cav)
        if spec is None:
            raise KeyError(f"column {column!r} is not in the data dictionary")
    unit, d, joints, view, src, cav = spec
    row.update(unit=unit, definition=d, valid_view=view, source=src)
    row["keypoints_mediapipe33"] = _kp(joints, "mediapipe33")
    row["keypoints_coco17"] = _kp(joints, "coco17")
    row["caveats"] = f"{cav} {CAVEATS}".strip()
    return row


def dictionary_rows(columns) -> list[dict[str, str]]:
    """Dictionary rows for ``columns`` in order (``KeyError`` for an undocumented column)."""
    return [describe(c) for c in columns]
