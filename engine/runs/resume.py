"""Resuming a run: lock it, drop log rows past its checkpoint, load or restart the optimizer."""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from engine.config import NOISE_STREAM_VERSION, FitConfig
from engine.data.dataset import Dataset
from engine.model.tradeoff import scored
from engine.proposers import Proposer, make_proposer
from engine.runs.checkpoint import load_checkpoint
from engine.runs.files import atomic_write, json_bytes, write_error
from engine.runs.layout import (
    BEST,
    BEST_FC_DIR,
    DATASET_ARRAYS,
    DATASET_INFO,
    LOG,
    STATUS,
    RunError,
    candidate_rows,
    check_marker,
    load_config,
    load_npy,
    parse_lines,
    read_json,
    resolve_run,
    row_corr,
    row_terms,
)
from engine.runs.lock import acquire_lock
from engine.runs.recorder import Recorder
from engine.search import Resume


class Resumed(NamedTuple):
    """What ``record_existing`` prepares: pass ``resume`` and the recorder to a new ``Search``."""

    config: FitConfig
    dataset: Dataset
    resume: Resume
    recorder: Recorder


def _load_dataset(path: Path) -> Dataset:
    info = read_json(path / DATASET_INFO) or {}
    try:
        with np.load(path / DATASET_ARRAYS, allow_pickle=False) as z:
            cmat, dmat, fc = (np.asarray(z[k], np.float64) for k in ("Cmat", "Dmat", "target_fc"))
            n_stored = sum(1 for k in z.files if k.startswith("BOLD_"))
            scans = tuple(np.asarray(z[f"BOLD_{i}"], np.float64) for i in range(n_stored))
            group: dict[str, Any] = {}  # group FCD values and hemispheres (runs written before them have none)
            if "hemisphere" in z.files:
                group["hemisphere"] = np.asarray(z["hemisphere"], np.int8)
            if "fcd_values" in z.files:
                group.update(fcd_values=np.asarray(z["fcd_values"], np.float64),
                             fcd_window_tr=int(z["fcd_window_tr"]), fcd_step_tr=int(z["fcd_step_tr"]))
            if "fcd_values_within" in z.files:
                group["fcd_values_within"] = np.asarray(z["fcd_values_within"], np.float64)
    except (OSError, KeyError, ValueError) as e:
        raise RunError(f"cannot read the dataset stored in {path / DATASET_ARRAYS}: {e}") from None
    tr = info.get("tr_s")
    labels = info.get("labels")
    return Dataset(name=str(info.get("name", "dataset")), source=str(info.get("source", "")), cmat=cmat, dmat=dmat,
                   target_fc=fc, n_scans=int(info.get("n_scans", 0)), n_timepoints=int(info.get("n_timepoints", 0)),
                   scans=scans, tr_s=None if tr is None else float(tr),
                   labels=None if labels is None else tuple(str(x) for x in labels), **group)


def _warm_start(proposer: Proposer, rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> bool:
    """Tell a fresh proposer the logged candidates; False when it does not accept unasked points."""
    if not rows:
        return True
    values = np.array([[float(r["params"][n]) for n in names] for r in rows])
    losses = np.array([float(r["loss"]) for r in rows])
    try:
        if hasattr(proposer, "optimizer"):  # NevergradProposer
            opt = proposer.optimizer  # type: ignore[attr-defined]
            for v, loss in zip(values, losses):
                opt.tell(opt.parametrization.spawn_child(new_value=v), float(loss))
        elif hasattr(proposer, "position"):  # GridProposer: the grid order is fixed
            proposer.position = len(rows)  # type: ignore[attr-defined]
            proposer.tell(values, losses)
        else:
            return False
    except Exception:  # noqa: BLE001
        return False
    return True


def record_existing(path: str | Path) -> Resumed:
    """Lock a stopped, failed or crashed run for resuming: drop log rows past its checkpoint and load the optimizer."""
    run = resolve_run(path)
    marker = check_marker(run)
    fd = acquire_lock(run)
    try:
        status = read_json(run / STATUS) or {}
        if status.get("status") == "finished":
            raise RunError(f"run {run} is finished (budget spent); there is nothing to resume")
        config = load_config(run)
        dataset = _load_dataset(run)
        proposer, manifest, why = load_checkpoint(run)
        done = int(manifest["evaluations"]) if manifest else 0
        kept = _truncate_log(run, done)
        notes: list[str] = []
        stream = marker.get("noise_stream", 1)
        if done and stream != NOISE_STREAM_VERSION:
            notes.append(f"the {done} evaluations so far drew noise stream {stream} and this version draws stream "
                         f"{NOISE_STREAM_VERSION}: losses before and after the resume see other noise realisations")
        if proposer is None:
            proposer = make_proposer(config)
            if done:
                warm = _warm_start(proposer, kept, config.names)
                notes.append(f"{why}; the optimizer restarts fresh"
                             + (f", told the {done} logged evaluations" if warm else "")
                             + f" and continues from evaluation {done}")
        best_row, best, best_fc = _restore_best(run, config, kept, done)
        nan = sum(1 for r in kept if r.get("flag"))
        wall = float(manifest.get("wall_s", 0.0)) if manifest else 0.0
        resume = Resume(proposer=proposer, evaluations=done, batches=int(manifest["batches"]) if manifest else 0,
                        best_values=None if best_row is None else
                        np.array([best_row["params"][n] for n in config.names], np.float64),
                        best_loss=None if best_row is None else float(best_row["loss"]), best_fc=best_fc,
                        nan_candidates=nan, wall_s=wall,
                        best_terms=None if best_row is None else (row_terms(best_row) or None),
                        best_corr=None if best_row is None else row_corr(best_row, config),
                        scored=[scored(int(r["evaluation"]), None if r.get("flag") else row_corr(r, config),
                                       row_terms(r)) for r in kept])
        recorder = Recorder(run, config, fd, base_wall_s=wall, evaluations=done, nan_candidates=nan, best=best,
                            previous_checkpoint=manifest.get("file") if manifest else None)
        recorder.notes.extend(notes)
        recorder.write_status(status="running", pid=os.getpid(), host=socket.gethostname(), reason=None,
                              summary=None, ended=None)
        return Resumed(config, dataset, resume, recorder)
    except BaseException:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        except OSError:
            pass
        raise


def _truncate_log(run: Path, done: int) -> list[dict[str, Any]]:
    """The log's first ``done`` candidate rows, the log rewritten to hold only them (refused when any is missing)."""
    raw = (run / LOG).read_bytes() if (run / LOG).exists() else b""
    kept = [r for r in candidate_rows(parse_lines(raw)[0]) if r["evaluation"] < done]
    if [r["evaluation"] for r in kept] != list(range(done)):
        raise RunError(f"cannot resume {run}: its log holds {len(kept)} of the {done} evaluations "
                       "its checkpoint counts")
    new_log = "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept).encode()
    if new_log != raw:
        atomic_write(run / LOG, new_log, run=run)
    return kept


def _restore_best(run: Path, config: FitConfig, kept: Sequence[Mapping[str, Any]], done: int
                  ) -> tuple[Mapping[str, Any] | None, dict[str, Any] | None, np.ndarray | None]:
    """The best kept row, the best file rewritten from it and its stored FC; best FCs past the checkpoint deleted."""
    best_row = None
    for r in kept:
        if best_row is None or r["loss"] < best_row["loss"]:
            best_row = r
    best_dir = run / BEST_FC_DIR
    if best_dir.is_dir():
        for f in best_dir.glob("*.npy"):
            if f.stem.isdigit() and int(f.stem) >= done:
                try:
                    f.unlink()
                except OSError as e:
                    raise write_error(run, e) from None
    if best_row is None:
        if (run / BEST).exists():
            (run / BEST).unlink()
        return None, None, None
    best = {"evaluation": best_row["evaluation"], "params": best_row["params"], "loss": best_row["loss"],
            "fc_corr": row_corr(best_row, config), "terms": best_row.get("terms") or {},
            "time": best_row.get("time")}
    atomic_write(run / BEST, json_bytes(best), run=run)
    return best_row, best, load_npy(best_dir / f"{best_row['evaluation']:08d}.npy")
