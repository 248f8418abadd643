"""A study's results as one table: a row per subject (best parameters, loss, terms, FC r, baselines), CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.compare import matrix_corr
from engine.runs import DATASET_ARRAYS, LOG, TARGET_FC, RunError, atomic_write, best_fc_of, candidate_rows, load_npy, read_log
from engine.runs.export import export_path
from engine.study.manifest import load_study, subject_statuses
from engine.study.scoring import VERDICT_COLUMNS, scoring_columns


def export_rows(path: str | Path) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per subject: best parameters, loss, each logged term, FC correlation, structural baseline."""
    p = Path(path).expanduser()
    _, config, _ = load_study(p)
    names = list(config.names)
    rows: list[dict[str, Any]] = []
    term_names: list[str] = []
    for s in subject_statuses(p):
        row: dict[str, Any] = {"subject": s.name, "scans": " ".join(map(str, s.scans)), "status": s.status,
                               "evaluations": s.evaluations, "budget": s.budget}
        best = None
        target = cmat = None
        if s.status != "pending":
            logged = candidate_rows(read_log(s.path / LOG))
            best = min(logged, key=lambda r: r["loss"]) if logged else None
            target = load_npy(s.path / TARGET_FC)
            try:
                with np.load(s.path / DATASET_ARRAYS, allow_pickle=False) as z:
                    cmat = np.asarray(z["Cmat"], np.float64)
            except (OSError, KeyError, ValueError):
                cmat = None
        for n in names:
            row[n] = None if best is None else float(best["params"].get(n, math.nan))
        row["loss"] = None if best is None else float(best["loss"])
        for t, v in dict((best or {}).get("terms") or {}).items():
            if t not in term_names:
                term_names.append(t)
            row[f"term_{t}"] = float(v)
        fc = best_fc_of(s.path, int(best["evaluation"])) if best is not None else None
        row["fc_corr"] = matrix_corr(fc, target) if fc is not None and target is not None else None
        row["structural_baseline"] = matrix_corr(cmat, target) if cmat is not None and target is not None else None

        row.update(scoring_columns(s.path, config, best))
        row["run"] = str(s.path)
        rows.append(row)
    columns = ["subject", "scans", "status", "evaluations", "budget", *names, "loss",
               *(f"term_{t}" for t in term_names), "fc_corr", "structural_baseline",
               *(["edges"] if config.edges != "all" else []),
               *(["train_fc_corr", "test_fc_corr", "train_ks", "test_ks", "test_structural_baseline"]
                 if config.split or config.test_data else []), *VERDICT_COLUMNS, "run"]
    return columns, rows


def export_study(path: str | Path, fmt: str = "csv", out: str | Path | None = None) -> Path:
    """Write the per-subject table as CSV (or JSON) to ``out`` (default STUDY/export/study.csv)."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("csv", "json"):
        raise RunError(f"a study exports --csv or --json, not {fmt}")
    p = Path(path).expanduser()
    columns, rows = export_rows(p)
    dest = export_path(p, out, f"study.{fmt}")
    if fmt == "json":
        data = (json.dumps(rows, indent=2) + "\n").encode()
    else:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else (repr(r[c]) if isinstance(r[c], float) else r[c]) for c in columns])
        data = buf.getvalue().encode()
    atomic_write(dest, data)
    return dest
