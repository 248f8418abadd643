"""A study directory: its ``study.json`` manifest (settings, data, subjects) and where each subject's run stands."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from engine.config import FitConfig
from engine.data.dataset import Dataset
from engine.runs import MARKER, RunError, atomic_write, run_info
from engine.study.subjects import Subject

STUDY_FILE = "study.json"
FORMAT = "wcfit-study"
FORMAT_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class SubjectStatus:
    """Where one subject's run stands."""

    name: str
    scans: tuple[int, ...]
    path: Path
    status: str  # pending | running | finished | stopped | failed | crashed
    evaluations: int
    budget: int
    best_loss: float | None
    best_params: dict[str, float] | None


def is_study(path: str | Path) -> bool:
    """Whether ``path`` is a study directory (holds a study.json)."""
    try:
        return (Path(path).expanduser() / STUDY_FILE).is_file()
    except OSError:
        return False


def create_study(out: str | Path, config: FitConfig, dataset: Dataset, subjects: Sequence[Subject],
                 per: str) -> dict[str, Any]:
    """Write a new study directory's manifest; returns it."""
    path = Path(out).expanduser()
    if path.exists() and any(path.iterdir()):
        raise RunError(f"{path} exists and is not a study directory; choose another --out")
    path.mkdir(parents=True, exist_ok=True)
    manifest = {"format": FORMAT, "version": FORMAT_VERSION, "created": time.time(), "data": config.data,
                "dataset": dataset.name, "per": per, "config": config.to_dict(),
                "subjects": [{"name": s.name, "scans": list(s.scans)} for s in subjects]}
    atomic_write(path / STUDY_FILE, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), run=path)
    return manifest


def load_study(path: str | Path) -> tuple[dict[str, Any], FitConfig, list[Subject]]:
    """The manifest, configuration and subjects of a study directory."""
    p = Path(path).expanduser()
    try:
        manifest = json.loads((p / STUDY_FILE).read_text())
    except FileNotFoundError:
        raise RunError(f"{p} is not a study directory (no {STUDY_FILE})") from None
    except (OSError, ValueError) as e:
        raise RunError(f"cannot read {p / STUDY_FILE}: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunError(f"{p / STUDY_FILE} is not a study manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise RunError(f"{p} has study format version {manifest.get('version')!r}; this wcfit-tui reads {FORMAT_VERSION}")
    config = FitConfig.from_dict(manifest["config"])
    subjects = [Subject(name=str(s["name"]), scans=tuple(int(i) for i in s["scans"])) for s in manifest["subjects"]]
    return manifest, config, subjects


def subject_statuses(path: str | Path) -> list[SubjectStatus]:
    """Every subject of a study with its run's status ('pending' before its run exists)."""
    p = Path(path).expanduser()
    _, config, subjects = load_study(p)
    out = []
    for s in subjects:
        run = p / s.name
        info = None
        if (run / MARKER).exists():
            try:
                info = run_info(run)
            except RunError:
                info = None
        out.append(SubjectStatus(name=s.name, scans=s.scans, path=run, status=info.status if info else "pending",
                                 evaluations=info.evaluations if info else 0, budget=config.budget,
                                 best_loss=None if info is None or info.best_loss is None else float(info.best_loss),
                                 best_params=dict(info.best_params) if info and info.best_params else None))
    return out
