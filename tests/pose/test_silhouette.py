import numpy as np

from gaitpose.pose.silhouette import normalize_silhouette


def test_empty_mask_gives_zeros():
    out = normalize_silhouette(np.zeros((100, 80), np.uint8))
    assert out.shape == (64, 64) and out.dtype == np.uint8 and out.max() == 0


def test_rectangle_is_centred_and_full_height():
    m = np.zeros((200, 300), np.uint8)
    m[50:150, 30:80] = 255  # 100 tall, 50 wide, far left of the frame
    out = normalize_silhouette(m)
    assert out.shape == (64, 64)
    rows = np.flatnonzero(out.max(1) > 127)
    cols = np.flatnonzero(out.max(0) > 127)
    assert rows[0] == 0 and rows[-1] == 63  # fills the height
    assert abs((cols[0] + cols[-1]) / 2 - 32) <= 1.5  # centred
    assert 30 <= len(cols) <= 34  # aspect kept: 64 * 50 / 100 = 32


def test_translation_invariance():
    m1 = np.zeros((240, 320), np.uint8)
    m1[40:200, 100:150] = 1
    m2 = np.roll(np.roll(m1, 30, axis=0), -70, axis=1)
    np.testing.assert_array_equal(normalize_silhouette(m1), normalize_silhouette(m2))


def test_wide_blob_is_cut_to_window():
    m = np.zeros((100, 400), np.uint8)
    m[10:60, 0:400] = 255  # much wider than tall
    out = normalize_silhouette(m)
    assert out.shape == (64, 64) and out.min() == 255 or out.mean() > 200
