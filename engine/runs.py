"""Run directories: the on-disk record of every fit, and how runs are listed, followed, resumed and exported.

Layout of a run directory (default ``./wcfit-runs/NAME``)::

    wcfit-run.json          marker: {"format": "wcfit-run", "version": 1, ...}; identifies a directory this tool wrote
    config.json             the full FitConfig (the run can be repeated from it)
    dataset.json            dataset name, source, N, scans, time points, TR, labels, SHA-256 of the target FC
    dataset.npz             Cmat, Dmat, target FC and the BOLD scans (BOLD_0, …) as used (a resume needs no source)
    target_fc.npy           the target FC (N, N)
    candidates.jsonl        append-only log, one JSON object per evaluated candidate (see ``LOG_FIELDS``)
    warnings.jsonl          append-only log of warnings, each with the evaluation count when it was raised
    best.json               the best candidate so far
    best_fc/EEEEEEEE.npy    the model FC of every new best, named by its evaluation number
    checkpoint-BBBBBB.pkl   the pickled optimizer after batch BBBBBB was told (only the latest is kept)
    checkpoint.json         checkpoint manifest: file name, SHA-256, size, evaluations, batches, wall time
    status.json             running / finished / stopped / failed / crashed, PID, host, times, final summary
    lock                    ``flock``-ed by the single writer; holds its PID and host
    export/                 files written by ``wcfit-tui export``

Whole files are written atomically (temporary file, fsync, ``os.replace``, fsync of the directory); the logs
get whole lines appended with one write and an fsync per batch, and a torn last line is ignored on read.
A run is "crashed" when its status says running but nobody holds its lock.

Checkpoint safety. Checkpoints are Python pickles, and unpickling untrusted data can run arbitrary code, so
``wcfit-tui resume`` only unpickles a checkpoint that this tool wrote into a run directory, and checks that
before reading it: the directory must carry the ``wcfit-run.json`` marker with a known format version; the
checkpoint must be the plain file (no symlink, no path) named by ``checkpoint.json``, the manifest the tool
writes atomically after each checkpoint; and its SHA-256 and size must match the manifest. The bytes that were
hashed are the bytes unpickled, so the file cannot change in between. There is no way to resume from an
arbitrary pickle path. As a second line of defence the unpickler only resolves what an optimizer checkpoint
needs: plain (undotted) names of Nevergrad's optimizer, parametrization and transform classes defined in the
module named, and a fixed list of Nevergrad, CMA, NumPy and standard-library classes and functions and the engine's
proposers; its ``getattr`` reaches only a NumPy random state's sampling methods. A checkpoint naming anything else is
not loaded and the optimizer restarts fresh, warm-started from the logged candidates. This stops a pickle from
calling anything else while it loads; it does not make a hostile checkpoint safe to run, since the optimizer it
builds runs its own code on the pickled data. A checksum is not a signature: someone who can write to the run
directory can rewrite both the checkpoint and its manifest, so keep run directories as private as any other code
you run.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import io
import json
import math
import os
import pickle
import shutil
import socket
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, NamedTuple, Sequence

import numpy as np

from engine.config import NOISE_STREAM_VERSION, ConfigError, FitConfig
from engine.data import Dataset
from engine.events import (
    BatchEvaluated, Cancelled, Ended, Event, Failed, Finished, NewBest, Started, Summary, Warned,
)
from engine.search import Proposer, Resume, make_proposer

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
BEST = "best.json"
BEST_FC_DIR = "best_fc"
MANIFEST = "checkpoint.json"
STATUS = "status.json"
LOCK = "lock"
EXPORT_DIR = "export"

#: Keys of one candidate row in ``candidates.jsonl``.
LOG_FIELDS = ("evaluation", "batch", "batch_size", "params", "loss", "flag", "time", "wall_s", "compile_s")

_TERMINAL_STATUS = {Finished: "finished", Cancelled: "stopped", Failed: "failed"}
_EXPORT_FORMATS = ("csv", "json", "npz")


class RunError(Exception):
    """A run directory cannot be used as asked; the message is one line meant for the user."""


class RunWriteError(RunError):
    """Writing the run directory failed (full disk, no permission, ...)."""


# ---------------------------------------------------------------------------
# low-level file helpers


def _write_error(run: Path, exc: OSError) -> RunWriteError:
    reason = exc.strerror or str(exc)
    return RunWriteError(f"cannot write run directory {run}: {reason}")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def atomic_write(path: Path, data: bytes, *, run: Path | None = None) -> None:
    """Replace ``path`` with ``data`` atomically (temp file, fsync, rename); raises RunWriteError."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as e:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise _write_error(run or path.parent, e) from None
    _fsync_dir(path.parent)


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise RunError(f"cannot read {path}: {e}") from None


def _load_npy(path: Path) -> np.ndarray | None:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def _best_fc(run: Path, evaluation: int | None) -> np.ndarray | None:
    """The stored model FC of that evaluation's best, else the newest stored one, else None."""
    fc = _load_npy(run / BEST_FC_DIR / f"{evaluation:08d}.npy") if evaluation is not None else None
    if fc is None and (run / BEST_FC_DIR).is_dir():
        files = sorted(p for p in (run / BEST_FC_DIR).glob("*.npy") if p.stem.isdigit())
        fc = _load_npy(files[-1]) if files else None
    return fc


def read_log(path: Path) -> list[dict[str, Any]]:
    """The complete, valid rows of a JSON-lines log; a torn or unparsable line is skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise RunError(f"cannot read {path}: {e.strerror or e}") from None
    rows, _ = _parse_lines(data)
    return rows


def _parse_lines(data: bytes) -> tuple[list[dict[str, Any]], int]:
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


def _candidate_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Well-formed candidate rows, first occurrence of each evaluation number, in evaluation order."""
    seen: dict[int, dict[str, Any]] = {}
    for row in rows:
        ev = row.get("evaluation")
        if isinstance(ev, int) and isinstance(row.get("params"), dict) and isinstance(row.get("loss"), (int, float)):
            seen.setdefault(ev, dict(row))
    return [seen[k] for k in sorted(seen)]


# ---------------------------------------------------------------------------
# the lock


def _lock_text() -> bytes:
    return f"{os.getpid()} {socket.gethostname()}\n".encode()


def _read_holder(path: Path) -> str:
    try:
        text = (path / LOCK).read_text().strip()
    except OSError:
        return "?"
    return text.split()[0] if text else "?"


def _acquire_lock(path: Path) -> int:
    """Take the run's exclusive lock and write our PID into it; refuse when another process holds it."""
    try:
        fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise _write_error(path, e) from None
    for attempt in range(10):  # a viewer may hold a shared lock for an instant while it checks liveness
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if attempt == 9:
                os.close(fd)
                raise RunError(f"run {path} is live: process {_read_holder(path)} is writing it "
                               "(only one writer per run; attach to watch it)") from None
            time.sleep(0.02)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, _lock_text(), 0)
        os.fsync(fd)
    except OSError as e:
        os.close(fd)
        raise _write_error(path, e) from None
    return fd


def lock_holder(path: str | Path) -> str | None:
    """The PID (as text) of the process writing a run, or None when nobody holds its lock."""
    lock = Path(path) / LOCK
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(Path(path))
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# summaries, status


def summary_to_dict(summary: Summary) -> dict[str, Any]:
    """Every field of a Summary as JSON-ready data (``Summary.to_dict`` plus the parameter names)."""
    d = summary.to_dict()
    d["names"] = list(summary.names)
    d["wall_s"] = float(summary.wall_s)
    return d


def summary_from_dict(d: Mapping[str, Any]) -> Summary:
    """Rebuild a Summary written by ``summary_to_dict``."""
    def opt_map(v: Any) -> dict[str, float] | None:
        return None if not v else {str(k): float(x) for k, x in dict(v).items()}

    return Summary(status=d.get("status", "failed"), reason=str(d.get("reason", "")),
                   names=tuple(d.get("names") or ()), best_params=opt_map(d.get("best_params")),
                   best_loss=d.get("best_loss"), recommendation=opt_map(d.get("recommendation")),
                   recommendation_loss=d.get("recommendation_loss"), evaluations=int(d.get("evaluations", 0)),
                   nan_candidates=int(d.get("nan_candidates", 0)), wall_s=float(d.get("wall_s", 0.0)),
                   device=str(d.get("device", "")), warnings=tuple(d.get("warnings") or ()))


def _check_marker(path: Path) -> dict[str, Any]:
    """Refuse a directory that is not a run directory of a known format version; return its marker."""
    if not path.is_dir():
        raise RunError(f"no run directory at {path}")
    marker = _read_json(path / MARKER)
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


# ---------------------------------------------------------------------------
# the restricted unpickler
#
# A pickle names globals as (module, name) and can then call any callable it holds (REDUCE, NEWOBJ), including an
# instance it built, so every global is checked for what it is, not only where it was found: a name is one plain
# identifier (protocol 4 resolves dotted names attribute by attribute), and what it resolves to must be a listed
# object, or a Nevergrad optimizer, parametrization or transform class defined in that very module. Nevergrad's other
# classes are refused unless listed (``CommandFunction`` runs a shell command when called, ``DelayedJob`` calls what it
# holds), and so is everything from elsewhere that a module merely imports.

_NUMPY_STD_GLOBALS = frozenset({
    ("numpy", "dtype"), ("numpy", "ndarray"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"), ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__randomstate_ctor"), ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random.mtrand", "RandomState"), ("numpy.random._mt19937", "MT19937"),
    ("numpy.random._pcg64", "PCG64"), ("numpy.random._generator", "Generator"), ("numpy.linalg", "eigh"),
    ("collections", "OrderedDict"), ("collections", "deque"), ("collections", "defaultdict"),
    ("copyreg", "_reconstructor"), ("builtins", "object"), ("builtins", "set"), ("builtins", "frozenset"),
    ("builtins", "slice"), ("builtins", "complex"), ("builtins", "range"), ("builtins", "bytearray"),
})
#: Nevergrad's and CMA's helper classes and functions an optimizer checkpoint holds (measured on every offered one).
_OPTIMIZER_GLOBALS = frozenset({
    ("engine.search", "NevergradProposer"), ("engine.search", "GridProposer"),
    ("nevergrad.common.tools", "OrderedSet"),
    ("nevergrad.optimization.utils", "Archive"), ("nevergrad.optimization.utils", "ConstraintManager"),
    ("nevergrad.optimization.utils", "MultiValue"), ("nevergrad.optimization.utils", "Pruning"),
    ("nevergrad.optimization.utils", "UidQueue"),
    ("nevergrad.parametrization.core", "default_congruence"), ("nevergrad.parametrization.utils", "BoundChecker"),
    ("nevergrad.parametrization.utils", "FunctionInfo"), ("nevergrad.parametrization.utils", "Subobjects"),
    ("cma.boundary_handler", "BoundNone"), ("cma.boundary_handler", "BoundTransform"),
    ("cma.boundary_handler", "BoundPenalty"), ("cma.evolution_strategy", "CMAEvolutionStrategy"),
    ("cma.evolution_strategy", "_CMASolutionDict_functional"), ("cma.evolution_strategy", "_CMAStopDict"),
    ("cma.evolution_strategy", "_StopTolXStagnation"), ("cma.evolution_strategy", "_pass"),
    ("cma.logger", "CMADataLogger"), ("cma.optimization_tools", "BestSolution"),
    ("cma.options_parameters", "CMAOptions"), ("cma.options_parameters", "CMAParameters"),
    ("cma.options_parameters", "is_feasible"), ("cma.recombination_weights", "RecombinationWeights"),
    ("cma.sampler", "GaussStandardConstant"), ("cma.sampler", "GaussFullSampler"),
    ("cma.sampler", "GaussDiagonalSampler"), ("cma.sigma_adaptation", "CMAAdaptSigmaCSA"),
    ("cma.transformations", "DiagonalDecoding"), ("cma.transformations", "GenoPheno"),
    ("cma.transformations", "RoundIntegerVariables"), ("cma.utilities.utils", "BlancClass"),
    ("cma.utilities.utils", "DictFromTagsInString"), ("cma.utilities.utils", "ElapsedWCTime"),
    ("cma.utilities.utils", "MoreToWrite"), ("cma.utilities.utils", "SolutionDict"),
})
_ALLOWED_GLOBALS = _NUMPY_STD_GLOBALS | _OPTIMIZER_GLOBALS
#: Modules whose optimizer, parametrization and transform classes (any of Nevergrad's registry) may be resolved.
_NEVERGRAD_PREFIXES = ("nevergrad.optimization.", "nevergrad.parametrization.")
#: Methods a pickle may take from a NumPy random state with ``getattr`` (CMA keeps ``RandomState.randn`` as its sampler).
_RANDOM_METHODS = frozenset({"randn", "rand", "standard_normal", "normal", "uniform", "random_sample", "random"})


class _NotAllowed(Exception):
    pass


def _nevergrad_bases() -> tuple[type, ...]:
    from nevergrad.optimization.base import ConfiguredOptimizer, Optimizer
    from nevergrad.parametrization._layering import Layered
    from nevergrad.parametrization.core import Parameter
    from nevergrad.parametrization.transforms import Transform

    return Optimizer, ConfiguredOptimizer, Parameter, Layered, Transform


def _random_method(obj: Any, name: Any) -> Any:
    """The pickle's ``getattr``: only a sampling method of a NumPy random state (nothing else can be reached)."""
    if type(obj) is not np.random.RandomState or not isinstance(name, str) or name not in _RANDOM_METHODS:
        raise _NotAllowed(f"getattr({type(obj).__name__}, {name!r})")
    return getattr(obj, name)


def _resolve(module: str, name: str) -> Any:
    """The object a checkpoint may name as ``module.name``; raises _NotAllowed for anything else."""
    if not (isinstance(module, str) and isinstance(name, str) and name.isidentifier()
            and all(part.isidentifier() for part in module.split("."))):
        raise _NotAllowed(f"{module}.{name}")  # a dotted (or odd) name would be resolved attribute by attribute
    if (module, name) == ("builtins", "getattr"):
        return _random_method
    listed = (module, name) in _ALLOWED_GLOBALS
    if not listed and not module.startswith(_NEVERGRAD_PREFIXES):
        raise _NotAllowed(f"{module}.{name}")
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise _NotAllowed(f"{module}.{name} (not found)") from None
    if listed:
        if not (isinstance(obj, type) or callable(obj)):
            raise _NotAllowed(f"{module}.{name}")
        return obj
    # an unlisted Nevergrad global: a class defined right there that is an optimizer, parameter, layer or transform
    if not (isinstance(obj, type) and obj.__module__ == module and issubclass(obj, _nevergrad_bases())):
        raise _NotAllowed(f"{module}.{name}")
    return obj


class _CheckpointUnpickler(pickle.Unpickler):
    """Resolves only the classes and functions an optimizer checkpoint is made of."""

    def find_class(self, module: str, name: str) -> Any:
        """Resolve an allowed global, refuse any other (also those reached through copyreg's extension codes)."""
        return _resolve(module, name)


def load_checkpoint(path: str | Path) -> tuple[Proposer | None, dict[str, Any] | None, str | None]:
    """The verified checkpoint of a run: (proposer or None, manifest or None, note explaining a None proposer)."""
    run = Path(path)
    _check_marker(run)
    manifest = _read_json(run / MANIFEST)
    if manifest is None:
        return None, None, None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunError(f"refusing the checkpoint of {run}: {MANIFEST} is not a checkpoint manifest")
    for key in ("evaluations", "batches"):
        if not isinstance(manifest.get(key), int) or manifest[key] < 0:
            raise RunError(f"refusing the checkpoint of {run}: {MANIFEST} has no valid {key!r}")
    name = manifest.get("file")
    if not name:
        return None, manifest, "the optimizer could not be checkpointed"
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith(".") \
            or not (name.startswith("checkpoint-") and name.endswith(".pkl")):
        raise RunError(f"refusing the checkpoint of {run}: the manifest names an unexpected file {name!r}")
    file = run / name
    try:
        st = os.lstat(file)
    except FileNotFoundError:
        raise RunError(f"refusing the checkpoint of {run}: {name} is missing") from None
    if not stat.S_ISREG(st.st_mode):
        raise RunError(f"refusing the checkpoint of {run}: {name} is not a regular file")
    try:
        blob = file.read_bytes()
    except OSError as e:
        raise RunError(f"cannot read {file}: {e.strerror or e}") from None
    digest = hashlib.sha256(blob).hexdigest()
    if len(blob) != manifest.get("size") or digest != manifest.get("sha256"):
        raise RunError(f"refusing the checkpoint of {run}: {name} does not match the SHA-256 in {MANIFEST} "
                       "(modified or corrupt); it was not loaded")
    try:
        proposer = _CheckpointUnpickler(io.BytesIO(blob)).load()
    except _NotAllowed as e:
        return None, manifest, f"the checkpoint names {e}, which is not loaded"
    except Exception as e:  # noqa: BLE001 - e.g. written by another nevergrad version
        return None, manifest, f"the checkpoint could not be read ({type(e).__name__})"
    if not all(callable(getattr(proposer, m, None)) for m in ("ask", "tell", "recommend")):
        return None, manifest, "the checkpoint does not hold an optimizer"
    return proposer, manifest, None


# ---------------------------------------------------------------------------
# writing: the recorder


class _Checkpointer:
    """Saves the optimizer after every told batch, with a manifest holding its SHA-256."""

    def __init__(self, recorder: "Recorder") -> None:
        self._rec = recorder

    def save(self, *, proposer: bytes, evaluations: int, batches: int) -> None:
        """Write the pickled optimizer atomically, then its manifest, then drop the previous checkpoint."""
        self._rec._save_checkpoint(proposer, evaluations, batches)


class Recorder:
    """The single writer of a run directory; feed it every event and pass ``checkpointer`` to the search."""

    def __init__(self, path: Path, config: FitConfig, lock_fd: int, *, base_wall_s: float = 0.0,
                 evaluations: int = 0, nan_candidates: int = 0, best: Mapping[str, Any] | None = None,
                 previous_checkpoint: str | None = None) -> None:
        self.path = path
        self.config = config
        self.notes: list[str] = []
        self.checkpointer = _Checkpointer(self)
        self._lock_fd: int | None = lock_fd
        self._base_wall = base_wall_s
        self._t0 = time.perf_counter()
        self._evaluations = evaluations
        self._nan = nan_candidates
        self._best = dict(best) if best else None
        self._prev_ckpt = previous_checkpoint
        self._error: RunWriteError | None = None
        self._terminal = False
        self._status: dict[str, Any] = _read_json(path / STATUS) or {}
        try:
            self._log_fd = os.open(path / LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._warn_fd = os.open(path / WARNINGS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            self._release()
            raise _write_error(path, e) from None

    @property
    def name(self) -> str:
        """The run's name (its directory name)."""
        return self.path.name

    @property
    def error(self) -> RunWriteError | None:
        """The write error that broke the recording, if any."""
        return self._error

    def _wall(self) -> float:
        return self._base_wall + time.perf_counter() - self._t0

    def _append(self, fd: int, rows: Sequence[Mapping[str, Any]]) -> None:
        data = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode()
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except OSError as e:
            raise _write_error(self.path, e) from None

    def _write_status(self, **changes: Any) -> None:
        self._status.update(changes)
        self._status["updated"] = time.time()
        atomic_write(self.path / STATUS, _json_bytes(self._status), run=self.path)

    def listener(self, event: Event) -> None:
        """Record one event; raises RunWriteError when the directory cannot be written (the fit then fails)."""
        terminal = isinstance(event, Ended)
        if self._error is not None and not terminal:
            raise self._error
        try:
            self._record(event)
        except RunWriteError as e:
            self._error = self._error or e
            if not terminal:
                raise

    def _record(self, event: Event) -> None:
        if isinstance(event, Started):
            starts = list(self._status.get("starts") or [])
            starts.append(event.time)
            self._write_status(status="running", pid=os.getpid(), host=socket.gethostname(), device=event.device,
                               started=self._status.get("started") or event.time, starts=starts,
                               evaluations_done=event.evaluations_done, summary=None, reason=None, ended=None)
        elif isinstance(event, BatchEvaluated):
            rows = [{"evaluation": event.first_evaluation + i, "batch": event.batch_index,
                     "batch_size": len(event.losses),
                     "params": {n: float(v) for n, v in zip(event.names, event.values[i])},
                     "loss": float(event.losses[i]), "flag": event.flags[i], "time": event.time,
                     "wall_s": float(event.wall_s), "compile_s": float(event.compile_s)}
                    for i in range(len(event.losses))]
            self._append(self._log_fd, rows)
            self._evaluations = event.evaluations
            self._nan += sum(1 for f in event.flags if f)
        elif isinstance(event, NewBest):
            (self.path / BEST_FC_DIR).mkdir(exist_ok=True)
            atomic_write(self.path / BEST_FC_DIR / f"{event.evaluation:08d}.npy", _npy_bytes(event.model_fc),
                         run=self.path)
            self._best = {"evaluation": event.evaluation, "params": dict(event.params), "loss": event.loss,
                          "fc_corr": event.fc_corr, "time": event.time}
            atomic_write(self.path / BEST, _json_bytes(self._best), run=self.path)
        elif isinstance(event, Warned):
            self._append(self._warn_fd, [{"message": event.message, "evaluations": self._evaluations,
                                          "time": event.time}])
        elif isinstance(event, Ended):
            self._terminal = True
            s = event.summary
            self._write_status(status=_TERMINAL_STATUS[type(event)], reason=s.reason, ended=event.time,
                               summary=summary_to_dict(s), evaluations=s.evaluations)

    def _save_checkpoint(self, blob: bytes, evaluations: int, batches: int) -> None:
        if self._error is not None:
            raise self._error
        try:
            name = None
            if blob:
                name = f"checkpoint-{batches:06d}.pkl"
                atomic_write(self.path / name, blob, run=self.path)
            manifest = {"format": FORMAT, "version": FORMAT_VERSION, "file": name,
                        "sha256": hashlib.sha256(blob).hexdigest() if blob else None, "size": len(blob),
                        "evaluations": int(evaluations), "batches": int(batches), "wall_s": self._wall(),
                        "nan_candidates": self._nan, "best": self._best, "time": time.time()}
            atomic_write(self.path / MANIFEST, _json_bytes(manifest), run=self.path)
        except RunWriteError as e:
            self._error = e
            raise
        if self._prev_ckpt and self._prev_ckpt != name:
            try:
                (self.path / self._prev_ckpt).unlink()
            except OSError:
                pass
        self._prev_ckpt = name

    def _release(self) -> None:
        for attr in ("_log_fd", "_warn_fd"):
            fd = getattr(self, attr, None)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, attr, None)
        if self._lock_fd is not None:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
            except OSError:
                pass
            self._lock_fd = None

    def close(self) -> None:
        """Release the lock; a run closed without a terminal event is marked crashed (it can be resumed)."""
        if self._lock_fd is None:
            return
        if not self._terminal:
            try:
                self._write_status(status="crashed", reason="the fit ended without a final event", ended=time.time())
            except RunWriteError:
                pass
        self._release()

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _valid_name(name: str) -> str:
    name = name.strip()
    if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
        raise RunError(f"invalid run name {name!r}: use letters, digits, '-' or '_' (no '/' and no leading '.')")
    return name


def _dataset_info(dataset: Dataset) -> dict[str, Any]:
    return {"name": dataset.name, "source": dataset.source, "n_nodes": dataset.n_nodes,
            "n_scans": dataset.n_scans, "n_timepoints": dataset.n_timepoints, "tr_s": dataset.tr_s,
            "labels": list(dataset.labels) if dataset.labels else None,
            "target_fc_sha256": hashlib.sha256(np.ascontiguousarray(dataset.target_fc, np.float64)).hexdigest()}


def record(config: FitConfig, dataset: Dataset, *, out: str | Path | None = None,
           name: str | None = None) -> Recorder:
    """Create a run directory under ``out`` (default ./wcfit-runs), lock it and write the config and target FC."""
    root = Path(out).expanduser() if out else DEFAULT_ROOT
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunWriteError(f"cannot create run root {root}: {e.strerror or e}") from None
    if name is not None:
        path = root / _valid_name(name)
        try:
            path.mkdir()
        except FileExistsError:
            raise RunError(f"a run named {path.name!r} already exists in {root}; choose another name "
                           "or resume it") from None
        except OSError as e:
            raise _write_error(path, e) from None
    else:
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{config.optimizer}"
        for i in range(1, 1000):
            path = root / (stem if i == 1 else f"{stem}-{i}")
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
            except OSError as e:
                raise _write_error(path, e) from None
        else:  # pragma: no cover
            raise RunError(f"cannot find a free run name for {stem} in {root}")
    try:
        fd = _acquire_lock(path)
    except RunError:
        shutil.rmtree(path, ignore_errors=True)
        raise
    try:
        now = time.time()
        atomic_write(path / MARKER, _json_bytes({"format": FORMAT, "version": FORMAT_VERSION, "created": now,
                                                 "tool": "wcfit-tui", "noise_stream": NOISE_STREAM_VERSION}),
                     run=path)
        atomic_write(path / CONFIG, (config.to_json() + "\n").encode(), run=path)
        atomic_write(path / DATASET_INFO, _json_bytes(_dataset_info(dataset)), run=path)
        buf = io.BytesIO()
        scans = {f"BOLD_{i}": scan for i, scan in enumerate(dataset.scans)}  # scans may differ in length
        np.savez(buf, Cmat=dataset.cmat, Dmat=dataset.dmat, target_fc=dataset.target_fc, **scans)
        atomic_write(path / DATASET_ARRAYS, buf.getvalue(), run=path)
        atomic_write(path / TARGET_FC, _npy_bytes(dataset.target_fc), run=path)
        atomic_write(path / STATUS, _json_bytes({"status": "running", "pid": os.getpid(),
                                                 "host": socket.gethostname(), "created": now,
                                                 "started": None, "updated": now}), run=path)
        return Recorder(path, config, fd)
    except RunWriteError:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        shutil.rmtree(path, ignore_errors=True)
        raise


# ---------------------------------------------------------------------------
# resuming


class Resumed(NamedTuple):
    """What ``record_existing`` prepares: pass ``resume`` and the recorder to a new ``Search``."""

    config: FitConfig
    dataset: Dataset
    resume: Resume
    recorder: Recorder


def _load_config(path: Path) -> FitConfig:
    try:
        return FitConfig.from_json((path / CONFIG).read_text())
    except FileNotFoundError:
        raise RunError(f"{path} has no {CONFIG}") from None
    except (OSError, ConfigError) as e:
        raise RunError(f"cannot use the configuration of {path}: {e}") from None


def _load_dataset(path: Path) -> Dataset:
    info = _read_json(path / DATASET_INFO) or {}
    try:
        with np.load(path / DATASET_ARRAYS, allow_pickle=False) as z:
            cmat, dmat, fc = (np.asarray(z[k], np.float64) for k in ("Cmat", "Dmat", "target_fc"))
            n_stored = sum(1 for k in z.files if k.startswith("BOLD_"))
            scans = tuple(np.asarray(z[f"BOLD_{i}"], np.float64) for i in range(n_stored))
    except (OSError, KeyError, ValueError) as e:
        raise RunError(f"cannot read the dataset stored in {path / DATASET_ARRAYS}: {e}") from None
    tr = info.get("tr_s")
    labels = info.get("labels")
    return Dataset(name=str(info.get("name", "dataset")), source=str(info.get("source", "")), cmat=cmat, dmat=dmat,
                   target_fc=fc, n_scans=int(info.get("n_scans", 0)), n_timepoints=int(info.get("n_timepoints", 0)),
                   scans=scans, tr_s=None if tr is None else float(tr),
                   labels=None if labels is None else tuple(str(x) for x in labels))


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
    marker = _check_marker(run)
    fd = _acquire_lock(run)
    try:
        status = _read_json(run / STATUS) or {}
        if status.get("status") == "finished":
            raise RunError(f"run {run} is finished (budget spent); there is nothing to resume")
        config = _load_config(run)
        dataset = _load_dataset(run)
        proposer, manifest, why = load_checkpoint(run)
        done = int(manifest["evaluations"]) if manifest else 0
        batches = int(manifest["batches"]) if manifest else 0
        raw = (run / LOG).read_bytes() if (run / LOG).exists() else b""
        kept = [r for r in _candidate_rows(_parse_lines(raw)[0]) if r["evaluation"] < done]
        if [r["evaluation"] for r in kept] != list(range(done)):
            raise RunError(f"cannot resume {run}: its log holds {len(kept)} of the {done} evaluations "
                           "its checkpoint counts")
        new_log = "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept).encode()
        if new_log != raw:
            atomic_write(run / LOG, new_log, run=run)
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
                        raise _write_error(run, e) from None
        best: dict[str, Any] | None = None
        best_fc = None
        if best_row is not None:
            best = {"evaluation": best_row["evaluation"], "params": best_row["params"], "loss": best_row["loss"],
                    "fc_corr": 1.0 - best_row["loss"], "time": best_row.get("time")}
            atomic_write(run / BEST, _json_bytes(best), run=run)
            best_fc = _load_npy(best_dir / f"{best_row['evaluation']:08d}.npy")
        elif (run / BEST).exists():
            (run / BEST).unlink()
        nan = sum(1 for r in kept if r.get("flag"))
        wall = float(manifest.get("wall_s", 0.0)) if manifest else 0.0
        resume = Resume(proposer=proposer, evaluations=done, batches=batches,
                        best_values=None if best_row is None else
                        np.array([best_row["params"][n] for n in config.names], np.float64),
                        best_loss=None if best_row is None else float(best_row["loss"]), best_fc=best_fc,
                        nan_candidates=nan, wall_s=wall)
        recorder = Recorder(run, config, fd, base_wall_s=wall, evaluations=done, nan_candidates=nan, best=best,
                            previous_checkpoint=manifest.get("file") if manifest else None)
        recorder.notes.extend(notes)
        recorder._write_status(status="running", pid=os.getpid(), host=socket.gethostname(), reason=None,
                               summary=None, ended=None)
        return Resumed(config, dataset, resume, recorder)
    except BaseException:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        except OSError:
            pass
        raise


# ---------------------------------------------------------------------------
# reading: listing, following, exporting


@dataclass(frozen=True, kw_only=True)
class RunInfo:
    """One run as ``wcfit-tui runs`` lists it."""

    name: str
    path: Path
    status: str  # running | finished | stopped | failed | crashed
    evaluations: int
    budget: int
    optimizer: str
    best_loss: float | None
    best_params: Mapping[str, float] | None
    started: float | None  # epoch seconds
    duration_s: float | None
    reason: str = ""
    pid: str | None = None


def _count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except OSError:
        return 0


def run_info(path: str | Path) -> RunInfo:
    """Status, progress and best result of one run directory."""
    run = Path(path)
    _check_marker(run)
    status = _read_json(run / STATUS) or {}
    state = str(status.get("status", "running"))
    holder = lock_holder(run)
    if state == "running" and holder is None:
        state = "crashed"
    try:
        cfg = _load_config(run)
        budget, optimizer = cfg.budget, cfg.optimizer
    except RunError:
        budget, optimizer = 0, "?"
    summary = status.get("summary") or {}
    best = _read_json(run / BEST) or {}
    evaluations = len(_candidate_rows(read_log(run / LOG))) if state != "finished" else \
        int(summary.get("evaluations", 0))
    best_loss = summary.get("best_loss", best.get("loss")) if summary else best.get("loss")
    best_params = summary.get("best_params") if summary else best.get("params")
    started = status.get("started") or status.get("created")
    if state == "running" and started:
        duration: float | None = time.time() - float(started)
    elif summary:
        duration = float(summary.get("wall_s", 0.0))
    elif started:  # crashed: up to the last thing it wrote
        try:
            last = max(float(status.get("updated") or started), os.stat(run / LOG).st_mtime)
        except OSError:
            last = float(status.get("updated") or started)
        duration = last - float(started)
    else:
        duration = None
    return RunInfo(name=run.name, path=run, status=state, evaluations=evaluations, budget=budget,
                   optimizer=optimizer, best_loss=best_loss, best_params=best_params,
                   started=float(started) if started else None, duration_s=duration,
                   reason=str(status.get("reason") or ""), pid=holder or (str(status.get("pid")) if status else None))


def list_runs(root: str | Path | None = None) -> list[RunInfo]:
    """Every run directory directly under ``root`` (default ./wcfit-runs), oldest first."""
    base = Path(root).expanduser() if root else DEFAULT_ROOT
    if not base.is_dir():
        raise RunError(f"no runs directory at {base}")
    out = []
    for child in sorted(base.iterdir()):
        if child.is_dir() and (child / MARKER).exists():
            try:
                out.append(run_info(child))
            except RunError:
                continue
    return sorted(out, key=lambda r: (r.started or 0.0, r.name))


def _batch_event(rows: Sequence[Mapping[str, Any]], names: tuple[str, ...], config: FitConfig,
                 best_loss: float) -> BatchEvaluated:
    values = np.array([[float(r["params"].get(n, math.nan)) for n in names] for r in rows], np.float64)
    losses = np.array([float(r["loss"]) for r in rows], np.float64)
    wall = float(rows[0].get("wall_s", 0.0))
    w = max(wall, 1e-9)
    return BatchEvaluated(batch_index=int(rows[0]["batch"]), first_evaluation=int(rows[0]["evaluation"]),
                          names=names, values=values, losses=losses, flags=tuple(str(r.get("flag", "")) for r in rows),
                          wall_s=wall, compile_s=float(rows[0].get("compile_s", 0.0)),
                          evaluations=int(rows[-1]["evaluation"]) + 1, candidates_per_s=len(rows) / w,
                          sim_s_per_s=len(rows) * config.simulated_seconds / w, best_loss=best_loss,
                          time=float(rows[-1].get("time", time.time())))


def follow(path: str | Path, stop: threading.Event, poll_s: float = 0.5) -> Iterator[Event]:
    """Replay a run's events and keep following it until a terminal status or ``stop``; read-only."""
    run = resolve_run(path)
    _check_marker(run)
    config = _load_config(run)
    names = config.names
    target = _load_npy(run / TARGET_FC)
    info = _read_json(run / DATASET_INFO) or {}
    status = _read_json(run / STATUS) or {}
    if target is None:
        raise RunError(f"cannot read the target FC of {run}")
    yield Started(config=config, target_fc=target, dataset=str(info.get("name", "")),
                  device=str(status.get("device") or ""), evaluations_done=0,
                  time=float(status.get("started") or status.get("created") or time.time()))
    offset = 0
    inode: int | None = None
    pending: dict[int, dict[int, dict[str, Any]]] = {}  # batch -> evaluation -> row
    emitted: set[int] = set()
    evaluations = 0
    best: dict[str, Any] | None = None
    last_fc: np.ndarray | None = None
    warn_offset = 0
    warnings: list[dict[str, Any]] = []

    def drain() -> Iterator[Event]:
        nonlocal offset, inode, evaluations, best, last_fc, warn_offset
        log = run / LOG
        try:
            st = os.stat(log)
        except FileNotFoundError:
            st = None
        if st is not None:
            if inode is not None and (st.st_ino != inode or st.st_size < offset):
                offset = 0  # the log was rewritten by a resume: read again, skipping emitted batches
            inode = st.st_ino
            try:
                with open(log, "rb") as f:
                    f.seek(offset)
                    data = f.read()
            except OSError:
                data = b""
            rows, used = _parse_lines(data)
            offset += used
            for r in _candidate_rows(rows):
                if isinstance(r.get("batch"), int) and r["batch"] not in emitted:
                    pending.setdefault(r["batch"], {})[r["evaluation"]] = r
        try:
            with open(run / WARNINGS, "rb") as f:
                f.seek(warn_offset)
                wrows, wused = _parse_lines(f.read())
            warn_offset += wused
            warnings.extend(w for w in wrows if isinstance(w.get("message"), str))
        except OSError:
            pass
        for b in sorted(pending):
            rows_b = [pending[b][e] for e in sorted(pending[b])]
            if len(rows_b) < int(rows_b[0].get("batch_size", len(rows_b))):
                break  # the rest of this batch is not on disk yet
            if rows_b[0]["evaluation"] != evaluations:
                break  # an earlier batch is still missing
            del pending[b]
            emitted.add(b)
            improved = None
            for r in rows_b:
                if best is None or r["loss"] < best["loss"]:
                    best = r
                    improved = r
            evaluations = int(rows_b[-1]["evaluation"]) + 1
            yield _batch_event(rows_b, names, config, float(best["loss"]))  # type: ignore[index]
            if improved is not None:
                fc = _best_fc(run, int(improved["evaluation"]))
                last_fc = fc if fc is not None else last_fc
                yield NewBest(evaluation=int(improved["evaluation"]),
                              params={n: float(improved["params"].get(n, math.nan)) for n in names},
                              loss=float(improved["loss"]),
                              model_fc=last_fc if last_fc is not None else np.full_like(target, np.nan),
                              time=float(improved.get("time", time.time())))
            while warnings and int(warnings[0].get("evaluations", 0)) <= evaluations:
                w = warnings.pop(0)
                yield Warned(message=w["message"], time=float(w.get("time", time.time())))

    while not stop.is_set():
        yield from drain()
        status = _read_json(run / STATUS) or {}
        state = status.get("status")
        crashed = state in ("running", "crashed") and lock_holder(run) is None
        if state in ("finished", "stopped", "failed") or crashed:
            # the log is complete before the status is written: read what is left, then end
            yield from drain()
            for w in warnings:
                yield Warned(message=w["message"], time=float(w.get("time", time.time())))
            if crashed:
                yield Failed(summary=_crashed_summary(run, config, status, evaluations, best))
                return
            summary = summary_from_dict(status.get("summary") or {"status": state, "names": list(names)})
            cls = {"finished": Finished, "stopped": Cancelled, "failed": Failed}[state]
            yield cls(summary=summary, time=float(status.get("ended") or time.time()))
            return
        stop.wait(poll_s)


def _crashed_summary(run: Path, config: FitConfig, status: Mapping[str, Any], evaluations: int,
                     best: Mapping[str, Any] | None) -> Summary:
    return Summary(status="crashed", reason=f"the process writing the run (PID {status.get('pid', '?')}) died; "
                                            f"resume it with: wcfit-tui resume {run}",
                   names=config.names, best_params=dict(best["params"]) if best else None,
                   best_loss=float(best["loss"]) if best else None, recommendation=None, recommendation_loss=None,
                   evaluations=evaluations, nan_candidates=0,
                   wall_s=float(status.get("updated") or 0) - float(status.get("started") or status.get("updated") or 0),
                   device=str(status.get("device") or ""))


def export(path: str | Path, fmt: str, out: str | Path | None = None) -> Path:
    """Export a run: candidates as CSV, summary as JSON or FCs (target, best model, difference) as NPZ."""
    run = resolve_run(path)
    _check_marker(run)
    fmt = fmt.lower().lstrip(".")
    if fmt not in _EXPORT_FORMATS:
        raise RunError(f"unknown export format {fmt!r}; choose one of {', '.join(_EXPORT_FORMATS)}")
    config = _load_config(run)
    names = config.names
    rows = _candidate_rows(read_log(run / LOG))
    default = {"csv": "candidates.csv", "json": "summary.json", "npz": "fcs.npz"}[fmt]
    dest = Path(out).expanduser() if out else run / EXPORT_DIR / default
    if dest.is_dir():
        dest = dest / f"{run.name}-{default}"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunWriteError(f"cannot write {dest}: {e.strerror or e}") from None
    best_row = min(rows, key=lambda r: r["loss"]) if rows else None  # first minimum, as the search keeps it
    if fmt == "csv":
        buf = io.StringIO()
        import csv

        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["evaluation", "batch", *names, "loss", "fc_corr", "flag", "time"])
        for r in rows:
            w.writerow([r["evaluation"], r.get("batch", ""), *(repr(float(r["params"].get(n, math.nan))) for n in names),
                        repr(float(r["loss"])), repr(1.0 - float(r["loss"])), r.get("flag", ""), r.get("time", "")])
        data = buf.getvalue().encode()
    elif fmt == "json":
        info = run_info(run)
        status = _read_json(run / STATUS) or {}
        doc = {"run": run.name, "status": info.status, "reason": info.reason, "config": config.to_dict(),
               "dataset": _read_json(run / DATASET_INFO), "evaluations": len(rows), "budget": config.budget,
               "nan_candidates": sum(1 for r in rows if r.get("flag")),
               "best": None if best_row is None else {"evaluation": best_row["evaluation"],
                                                      "params": best_row["params"], "loss": best_row["loss"],
                                                      "fc_corr": 1.0 - best_row["loss"]},
               "started": info.started, "duration_s": info.duration_s, "summary": status.get("summary")}
        data = _json_bytes(doc)
    else:
        target = _load_npy(run / TARGET_FC)
        if target is None:
            raise RunError(f"cannot read the target FC of {run}")
        model = _best_fc(run, int(best_row["evaluation"]) if best_row else None)
        if model is None:
            raise RunError(f"run {run} has no best model FC yet (no batch finished)")
        buf2 = io.BytesIO()
        np.savez(buf2, target=target, model=model, difference=model - target,
                 names=np.array(names), params=np.array([best_row["params"][n] for n in names]) if best_row
                 else np.array([]), loss=np.array(best_row["loss"] if best_row else math.nan))
        data = buf2.getvalue()
    atomic_write(dest, data)
    return dest


__all__ = [
    "DEFAULT_ROOT", "FORMAT", "FORMAT_VERSION", "LOG_FIELDS", "Recorder", "Resumed", "RunError", "RunInfo",
    "RunWriteError", "atomic_write", "export", "follow", "list_runs", "load_checkpoint", "lock_holder",
    "read_log", "record", "record_existing", "resolve_run", "run_info", "summary_from_dict", "summary_to_dict",
]
