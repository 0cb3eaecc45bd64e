"""Choosing the person's component in a segmentation mask (constructed masks)."""

from __future__ import annotations

import numpy as np

from gaitpose.pose.person_mask import person_mask, silhouette_from_mask


def _two_people(H=600, W=1000):
    prob = np.zeros((H, W), np.float32)
    prob[100:500, 100:220] = 0.9  # big blob, left
    prob[200:420, 700:760] = 0.8  # smaller blob, right
    prob[300:310, 900:990] = 0.4  # below threshold
    return prob


def _pose_at(x, y0, y1, n=33):
    kp = np.zeros((n, 3), np.float32)
    kp[:, 0] = x
    kp[:, 1] = np.linspace(y0, y1, n)
    kp[:, 2] = 0.9
    return kp


def test_component_under_the_pose_is_kept_at_full_resolution():
    prob = _two_people()
    pm = person_mask(prob, _pose_at(730, 210, 410))
    assert 694 <= pm.x0 <= 700 and 194 <= pm.y0 <= 200  # box of the right blob, small margin
    full = np.zeros(prob.shape, bool)
    full[pm.y0 : pm.y0 + pm.crop.shape[0], pm.x0 : pm.x0 + pm.crop.shape[1]] = pm.crop > 0
    expected = np.zeros(prob.shape, bool)
    expected[200:420, 700:760] = True
    assert (full == expected).mean() > 0.999 and full[200:420, 700:760].all()
    assert not full[:, :600].any()  # the other person is not included


def test_without_pose_the_largest_component_and_empty_masks():
    prob = _two_people()
    pm = person_mask(prob, None)
    assert pm.x0 < 110 and pm.crop.shape[0] >= 400
    # Keypoints outside the image or with low scores do not vote.
    kp = _pose_at(730, 210, 410)
    kp[:, 2] = 0.1
    assert person_mask(prob, kp).x0 < 110
    assert person_mask(np.zeros((50, 60), np.float32), None) is None
    sil, pm = silhouette_from_mask(None, None)
    assert sil.shape == (64, 64) and sil.max() == 0 and pm is None


def test_silhouette_is_normalised():
    prob = _two_people()
    sil, pm = silhouette_from_mask(prob, _pose_at(160, 110, 490))
    assert sil.dtype == np.uint8 and sil.shape == (64, 64)
    rows = np.flatnonzero(sil.max(1) > 127)
    cols = np.flatnonzero(sil.max(0) > 127)
    assert rows[0] == 0 and rows[-1] == 63
    assert abs(len(cols) - 64 * 120 / 400) <= 2 and abs((cols[0] + cols[-1]) / 2 - 32) <= 1.5
