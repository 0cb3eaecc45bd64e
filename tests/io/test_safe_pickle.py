import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest

from gaitpose.io import UnsafePickleError, dump_pickle, load_pickle


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned_marker",))


def test_numpy_and_containers_load(tmp_path):
    obj = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": [1, 2.5, "x", None], "c": (np.int64(3),),
           "d": OrderedDict(x=np.zeros((2, 2), np.uint8))}
    for proto in (2, 4, 5):
        p = tmp_path / f"ok{proto}.pkl"
        p.write_bytes(pickle.dumps(obj, protocol=proto))
        back = load_pickle(p)
        np.testing.assert_array_equal(back["a"], obj["a"])
        assert back["b"] == obj["b"] and back["c"][0] == 3


def test_malicious_pickle_refused_without_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "evil.pkl"
    p.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(UnsafePickleError, match="evil.pkl.*posix.system|evil.pkl.*os.system|evil.pkl"):
        load_pickle(p)
    assert not (tmp_path / "pwned_marker").exists()


def test_dump_round_trip(tmp_path):
    arr = np.ones((3, 64, 64), np.uint8)
    dump_pickle(tmp_path / "s.pkl", arr)
    np.testing.assert_array_equal(load_pickle(tmp_path / "s.pkl"), arr)
