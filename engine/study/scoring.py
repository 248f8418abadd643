"""A study subject's scoring columns: r and the baseline on the scored edges, and its held-out check."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from engine.config import FitConfig
from engine.runs.layout import STATUS, read_json


def scoring_columns(run: Path, config: FitConfig, best: Mapping[str, Any] | None) -> dict[str, Any]:
    """Columns that replace or join the all-edge numbers: with ``--edges`` other than all, r and the baseline
    as the fit scored them (on those edges); with ``--split``/``--test``, train and test r and KS."""

    summary = (read_json(run / STATUS) or {}).get("summary") or {}
    out: dict[str, Any] = {}
    if config.edges != "all":
        out["edges"] = config.edges
        out["fc_corr"] = None if best is None else best.get("fc_corr")
        out["structural_baseline"] = summary.get("structural_baseline")
    if config.split or config.test_data:
        held = summary.get("held_out") or {}
        out.update(train_fc_corr=held.get("train_r"), test_fc_corr=held.get("test_r"), train_ks=held.get("train_ks"),
                   test_ks=held.get("test_ks"), test_structural_baseline=held.get("test_baseline"))
    return out
