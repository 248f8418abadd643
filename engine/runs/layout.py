"""The run directory's layout and formats: file names, errors, the marker, reading its files and logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from engine.config import ConfigError, FitConfig
from engine.events import Summary

#: Where runs go when no ``--out`` is given (relative to the working directory).
DEFAULT_ROOT = Path("wcfit-runs")
#: The marker's format name and the version this code writes and reads.
FORMAT = "wcfit-run"
FORMAT_VERSION = 1

MARKER = "wcfit-run.json"
CONFIG = "config.json"
DATASET_INFO = "dataset.json"
DATASET_ARRAYS = "dataset.npz"
TARGET_FC = "target_fc.npy"
LOG = "candidates.jsonl"
WARNINGS = "warnings.jsonl"
ACTORS = "actors.json"
BEST = "best.json"
BEST_FC_DIR = "best_fc"
BEST_SIGNAL = "best_signal.npz"
MANIFEST = "checkpoint.json"
STATUS = "status.json"
LOCK = "lock"
EXPORT_DIR = "export"

#: Keys of one candidate row in ``candidates.jsonl``.
LOG_FIELDS = ("evaluation", "batch", "batch_size", "params", "loss", "flag", "time", "wall_s", "compile_s")


class RunError(Exception):
    """A run directory cannot be used as asked; the message is one line meant for the user."""


class RunWriteError(RunError):
    """Writing the run directory failed (full disk, no permission, ...)."""


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise RunError(f"cannot read {path}: {e}") from None


def load_npy(path: Path) -> np.ndarray | None:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def best_fc_of(run: Path, evaluation: int | None) -> np.ndarray | None:
    """The stored model FC of that evaluation's best, else the newest stored one, else None."""
    fc = load_npy(run / BEST_FC_DIR / f"{evaluation:08d}.npy") if evaluation is not None else None
    if fc is None and (run / BEST_FC_DIR).is_dir():
        files = sorted(p for p in (run / BEST_FC_DIR).glob("*.npy") if p.stem.isdigit())
        fc = load_npy(files[-1]) if files else None
    return fc


def read_log(path: Path) -> list[dict[str, Any]]:
    """The complete, valid rows of a JSON-lines log; a torn or unparsable line is skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise RunError(f"cannot read {path}: {e.strerror or e}") from None
    rows, _ = parse_lines(data)
    return rows


def parse_lines(data: bytes) -> tuple[list[dict[str, Any]], int]:
    """Rows of every complete line of ``data`` and the number of bytes they span."""
    rows: list[dict[str, Any]] = []
    end = data.rfind(b"\n") + 1
    for line in data[:end].splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows, end


def candidate_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Well-formed candidate rows, first occurrence of each evaluation number, in evaluation order."""
    seen: dict[int, dict[str, Any]] = {}
    for row in rows:
        ev = row.get("evaluation")
        if isinstance(ev, int) and isinstance(row.get("params"), dict) and isinstance(row.get("loss"), (int, float)):
            seen.setdefault(ev, dict(row))
    return [seen[k] for k in sorted(seen)]


def summary_to_dict(summary: Summary) -> dict[str, Any]:
    """Every field of a Summary as JSON-ready data (``Summary.to_dict`` plus the parameter names)."""
    d = summary.to_dict()
    d["names"] = list(summary.names)
    d["wall_s"] = float(summary.wall_s)
    return d


def finite_or_none(x: Any) -> float | None:
    """A float for the log (JSON has no NaN): None when missing or not finite."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def row_terms(row: Mapping[str, Any]) -> dict[str, float]:
    """A logged candidate's objective terms (NaN where it has none: diverged, or a run written before terms)."""
    return {str(k): (float("nan") if v is None else float(v)) for k, v in dict(row.get("terms") or {}).items()}


def row_corr(row: Mapping[str, Any], config: FitConfig) -> float | None:
    """A logged candidate's FC correlation r: logged, or 1 − loss for runs written before terms (objective fc)."""
    if "fc_corr" in row:
        return None if row["fc_corr"] is None else float(row["fc_corr"])
    return 1.0 - float(row["loss"]) if config.objective == "fc" else None


def summary_from_dict(d: Mapping[str, Any]) -> Summary:
    """Rebuild a Summary written by ``summary_to_dict``."""
    def opt_map(v: Any) -> dict[str, float] | None:
        return None if not v else {str(k): float(x) for k, x in dict(v).items()}

    return Summary(status=d.get("status", "failed"), reason=str(d.get("reason", "")),
                   names=tuple(d.get("names") or ()), best_params=opt_map(d.get("best_params")),
                   best_loss=d.get("best_loss"), recommendation=opt_map(d.get("recommendation")),
                   recommendation_loss=d.get("recommendation_loss"), evaluations=int(d.get("evaluations", 0)),
                   nan_candidates=int(d.get("nan_candidates", 0)), wall_s=float(d.get("wall_s", 0.0)),
                   device=str(d.get("device", "")), warnings=tuple(d.get("warnings") or ()),
                   best_terms=opt_map(d.get("terms")), best_fc_corr=d.get("fc_corr") if "terms" in d else None,
                   structural_baseline=d.get("structural_baseline"), objective=str(d.get("objective", "fc")),
                   edges=str(d.get("edges") or "all"), realizations=int(d.get("realizations") or 1),
                   held_out=dict(d["held_out"]) if isinstance(d.get("held_out"), dict) else None,
                   map_baselines=_opt_nulls(d.get("map_baselines")), test_map_baselines=_opt_nulls(d.get("test_map_baselines")),
                   fresh=dict(d["fresh"]) if isinstance(d.get("fresh"), dict) else None,
                   tradeoff=dict(d["tradeoff"]) if isinstance(d.get("tradeoff"), dict) else None)


def _opt_nulls(v: Any) -> dict[str, float | None] | None:
    """Map-alone baselines as written ({map: r or None}); None when absent (runs written before them)."""
    return None if not isinstance(v, dict) else {str(k): (None if x is None else float(x)) for k, x in v.items()}


def check_marker(path: Path) -> dict[str, Any]:
    """Refuse a directory that is not a run directory of a known format version; return its marker."""
    if not path.is_dir():
        raise RunError(f"no run directory at {path}")
    marker = read_json(path / MARKER)
    if not isinstance(marker, dict) or marker.get("format") != FORMAT:
        raise RunError(f"{path} is not a wcfit run directory (no valid {MARKER})")
    if marker.get("version") != FORMAT_VERSION:
        raise RunError(f"{path} has run format version {marker.get('version')!r}; "
                       f"this wcfit-tui reads version {FORMAT_VERSION}")
    return marker


def resolve_run(run: str | Path, root: str | Path | None = None) -> Path:
    """A run given as a path or as a name under ``root`` (default ./wcfit-runs)."""
    p = Path(run).expanduser()
    if p.is_dir():
        return p
    candidate = Path(root or DEFAULT_ROOT) / str(run)
    if candidate.is_dir():
        return candidate
    raise RunError(f"no run {str(run)!r}: neither a directory nor a run under {Path(root or DEFAULT_ROOT)}")


def load_config(path: Path) -> FitConfig:
    try:
        return FitConfig.from_json((path / CONFIG).read_text())
    except FileNotFoundError:
        raise RunError(f"{path} has no {CONFIG}") from None
    except (OSError, ConfigError) as e:
        raise RunError(f"cannot use the configuration of {path}: {e}") from None
