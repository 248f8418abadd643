"""Exporting a run: candidates as CSV, a summary as JSON, the FCs as NPZ, or the best model FC as a labelled CSV."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from engine.config import FitConfig
from engine.runs.files import atomic_write, json_bytes
from engine.runs.layout import (
    DATASET_INFO,
    EXPORT_DIR,
    LOG,
    STATUS,
    TARGET_FC,
    RunError,
    RunWriteError,
    best_fc_of,
    candidate_rows,
    check_marker,
    load_config,
    load_npy,
    read_json,
    read_log,
    resolve_run,
    row_corr,
    row_terms,
)
from engine.runs.listing import run_info

_EXPORT_FORMATS = ("csv", "json", "npz", "fc")


def run_labels(run: Path, n: int | None = None) -> tuple[str, ...] | None:
    """The region labels stored with a run's dataset (dataset.json), or None when it has none (for N regions)."""
    info = read_json(run / DATASET_INFO) or {}
    labels = info.get("labels") if isinstance(info, dict) else None
    if not isinstance(labels, list) or (n is not None and len(labels) != n):
        return None
    return tuple(str(x) for x in labels)


def fc_table(fc: np.ndarray, labels: tuple[str, ...] | None) -> bytes:
    """An N×N matrix as CSV: a header row and an index column of region labels (region numbers without labels)."""
    import csv

    names = list(labels) if labels is not None else [str(i) for i in range(fc.shape[0])]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["", *names])
    for name, row in zip(names, np.asarray(fc, np.float64)):
        w.writerow([name, *(repr(float(v)) for v in row)])
    return buf.getvalue().encode()


def export_path(source: Path, out: str | Path | None, default: str) -> Path:
    """Where an export of ``source`` goes: ``out`` (a file, or a folder for SOURCE-DEFAULT), else SOURCE/export/DEFAULT;
    its folder is created."""
    dest = Path(out).expanduser() if out else source / EXPORT_DIR / default
    if dest.is_dir():
        dest = dest / f"{source.name}-{default}"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunWriteError(f"cannot write {dest}: {e.strerror or e}") from None
    return dest


def export(path: str | Path, fmt: str, out: str | Path | None = None) -> Path:
    """Export a run: candidates (CSV), summary (JSON), FCs (target, best model, difference; NPZ) or best FC (CSV)."""
    run = resolve_run(path)
    check_marker(run)
    fmt = fmt.lower().lstrip(".")
    if fmt not in _EXPORT_FORMATS:
        raise RunError(f"unknown export format {fmt!r}; choose one of {', '.join(_EXPORT_FORMATS)}")
    config = load_config(run)
    rows = candidate_rows(read_log(run / LOG))
    default = {"csv": "candidates.csv", "json": "summary.json", "npz": "fcs.npz", "fc": "best_fc.csv"}[fmt]
    dest = export_path(run, out, default)
    best_row = min(rows, key=lambda r: r["loss"]) if rows else None  # first minimum, as the search keeps it
    if fmt == "csv":
        data = _candidates_csv(config, rows)
    elif fmt == "json":
        data = _summary_json(run, config, rows, best_row)
    else:
        data = _fcs(run, config, best_row, table=fmt == "fc")
    atomic_write(dest, data)
    return dest


def _candidates_csv(config: FitConfig, rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Every candidate as a CSV row: evaluation, batch, parameters, loss, terms, FC r (and its edges), flag, time."""
    import csv

    names = config.names
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    term_names = list(dict.fromkeys(k for r in rows for k in (r.get("terms") or {})))
    edges = [] if config.edges == "all" else ["edges"]  # fc_corr and the terms are on these edges
    w.writerow(["evaluation", "batch", *names, "loss", *term_names, "fc_corr", *edges, "flag", "time"])
    for r in rows:
        terms, corr = row_terms(r), row_corr(r, config)
        w.writerow([r["evaluation"], r.get("batch", ""), *(repr(float(r["params"].get(n, math.nan))) for n in names),
                    repr(float(r["loss"])), *(repr(terms.get(t, math.nan)) for t in term_names),
                    "" if corr is None else repr(corr), *([config.edges] if edges else []), r.get("flag", ""),
                    r.get("time", "")])
    return buf.getvalue().encode()


def _summary_json(run: Path, config: FitConfig, rows: Sequence[Mapping[str, Any]],
                  best_row: Mapping[str, Any] | None) -> bytes:
    """The run's summary as one JSON document: status, configuration, dataset, the best candidate, held-out check."""
    info = run_info(run)
    status = read_json(run / STATUS) or {}
    doc = {"run": run.name, "status": info.status, "reason": info.reason, "config": config.to_dict(),
           "dataset": read_json(run / DATASET_INFO), "evaluations": len(rows), "budget": config.budget,
           "nan_candidates": sum(1 for r in rows if r.get("flag")),
           "best": None if best_row is None else {"evaluation": best_row["evaluation"],
                                                  "params": best_row["params"], "loss": best_row["loss"],
                                                  "terms": best_row.get("terms") or {},
                                                  "fc_corr": row_corr(best_row, config)},
           "started": info.started, "duration_s": info.duration_s, "summary": status.get("summary"),
           "edges": config.edges, "realizations": config.realizations,
           "held_out": (status.get("summary") or {}).get("held_out")}
    return json_bytes(doc)


def _fcs(run: Path, config: FitConfig, best_row: Mapping[str, Any] | None, *, table: bool) -> bytes:
    """The best model FC as a labelled CSV table (``table``), else target, model and difference FCs in one NPZ."""
    target = load_npy(run / TARGET_FC)
    if target is None:
        raise RunError(f"cannot read the target FC of {run}")
    model = best_fc_of(run, int(best_row["evaluation"]) if best_row else None)
    if model is None:
        raise RunError(f"run {run} has no best model FC yet (no batch finished)")
    labels = run_labels(run, int(target.shape[0]))
    if table:
        return fc_table(model, labels)
    names = config.names
    buf = io.BytesIO()
    extra: dict[str, Any] = {} if labels is None else {"labels": np.array(labels, dtype=np.str_)}
    held = (read_json(run / STATUS) or {}).get("summary") or {}
    extra["edges"] = np.array(config.edges)
    for key in ("train_r", "test_r", "train_ks", "test_ks", "test_baseline"):
        v = (held.get("held_out") or {}).get(key)
        if v is not None:
            extra[f"held_out_{key}"] = np.array(float(v))
    np.savez(buf, target=target, model=model, difference=model - target,
             names=np.array(names), params=np.array([best_row["params"][n] for n in names]) if best_row
             else np.array([]), loss=np.array(best_row["loss"] if best_row else math.nan), **extra)
    return buf.getvalue()
