"""Run directories: the on-disk record of every fit, and how runs are listed, followed, resumed and exported.

Layout of a run directory (default ``./wcfit-runs/NAME``)::

    wcfit-run.json          marker: {"format": "wcfit-run", "version": 1, ...}; identifies a directory this tool wrote
                            (written last when the run is created, so a directory carrying it is complete)
    config.json             the full FitConfig (the run can be repeated from it)
    dataset.json            dataset name, source, N, scans, time points, TR, labels, SHA-256 of the target FC
    dataset.npz             Cmat, Dmat, target FC and the BOLD scans (BOLD_0, …) as used (a resume needs no source);
                            a hemisphere array and a group's FCD values (fcd_values, fcd_window_tr, fcd_step_tr) if any
    target_fc.npy           the target FC (N, N); under --split the training scans' FC
    candidates.jsonl        append-only log, one JSON object per evaluated candidate (see ``LOG_FIELDS``; with "edges"
                            and "realizations" when not all / 1), and after a held-out check one {"held_out": …} row
    warnings.jsonl          append-only log of warnings, each with the evaluation count when it was raised
    actors.json             a cluster fit's Ray actors after the latest batch: host, device, memory, share, speed
    best.json               the best candidate so far
    best_fc/EEEEEEEE.npy    the model FC of every new best, named by its evaluation number
    best_signal.npz         the latest best's sampled signal (signal (S, N) before band-pass, tr_s, evaluation), when the
                            observation is sampled and the fit ran locally (a report draws its FCD from it)
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

from engine.runs.export import export
from engine.runs.files import atomic_write
from engine.runs.follow import follow, replay
from engine.runs.layout import (
    BEST,
    CONFIG,
    DATASET_ARRAYS,
    DATASET_INFO,
    DEFAULT_ROOT,
    LOG,
    LOG_FIELDS,
    MANIFEST,
    MARKER,
    STATUS,
    TARGET_FC,
    RunError,
    RunWriteError,
    best_fc_of,
    candidate_rows,
    load_npy,
    read_log,
    resolve_run,
    summary_from_dict,
    summary_to_dict,
)
from engine.runs.listing import RunInfo, list_runs, run_info
from engine.runs.lock import lock_holder
from engine.runs.recorder import Recorder, record
from engine.runs.resume import Resumed, record_existing

__all__ = [
    "BEST", "CONFIG", "DATASET_ARRAYS", "DATASET_INFO", "DEFAULT_ROOT", "LOG", "LOG_FIELDS", "MANIFEST", "MARKER",
    "STATUS", "TARGET_FC", "Recorder", "Resumed", "RunError", "RunInfo", "RunWriteError", "atomic_write", "best_fc_of",
    "candidate_rows", "export", "follow", "list_runs", "load_npy", "lock_holder", "read_log", "record",
    "record_existing", "replay", "resolve_run", "run_info", "summary_from_dict", "summary_to_dict",
]
