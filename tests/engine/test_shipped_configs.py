"""Every config shipped in experiments/ resolves, and every cell of its grid builds its model.

A setting's overrides meet the base config only when a grid runs (hours later, or on a lent
GPU): a base option that one setting's model refuses (e.g. the measure read-out under concat
fusion) would surface there. Building each cell's model here needs no data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gaitpose.engine import builders
from gaitpose.engine.config import base_config, load_config
from gaitpose.engine.experiment import cell_config

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "experiments").glob("*.yaml"))


def cells(cfg: dict) -> list[tuple[str, dict]]:
    grid = cfg.get("experiment") or {}
    out = [("base", base_config(cfg))]
    for setting in grid.get("settings") or []:
        out.append((setting["name"], cell_config(cfg, setting, int((grid.get("seeds") or [0])[0]))))
    return out


def test_the_configs_are_found():
    assert {p.name for p in CONFIGS} >= {"synthetic_quick.yaml", "synthetic_cross_modal.yaml", "demo.yaml"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_cell_builds_its_model(path):
    cfg = load_config(path)
    for name, cell in cells(cfg):
        try:
            model = builders.build_model(cell)
        except Exception as exc:  # name the cell: the grid would fail there
            pytest.fail(f"{path.name}, {name}: {type(exc).__name__}: {exc}")
        assert sum(p.numel() for p in model.parameters()) > 0
