"""What the tests share, in one module: no test module imports another.

- waiting: ``wait_until`` (a thread or the test's own loop) and ``wait_for`` (an app under ``run_test``) wait for a
  state with one generous guard (``GUARD_S``): a wait ends when the state is reached, never after a time that assumes
  the machine's speed; the guard only turns a hang into a failure (pytest-timeout's per-test limit is the last one);
- the app: ``aio`` runs an async test, ``feed`` shows engine events, ``utc_clock`` an autouse fixture for snapshots;
- the headless CLI in-process: ``run_main`` (one real-entry-point subprocess per concern stays in the test files);
- data: ``random_structure``, ``make_small_dataset`` (conftest's fixtures use them), ``cluster_dataset``,
  ``scans_dataset``, ``tiny_npz``, the format writers ``make_raw`` / ``write_folder``;
- a fake objective (no JAX) and ``fake_fit``, a recorded fit with it; ``start_search`` runs a search in a thread;
  ``stopped_run`` records a real fit stopped after its first batch (to resume);
- ``start_ray_head``: a local Ray head for the cluster tests;
- ``at_product_xla_level`` / ``rerun_at_product_xla_level``: a bit-for-bit promise checked at the XLA optimisation
  level the product compiles at (the suite compiles at level 1: tests/conftest.py says why).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The one guard of every wait (seconds): far beyond what any state takes to reach on a loaded 2-core machine (a
#: compile of a few minutes included); only a hang reaches it. The per-test timeout (pyproject) is above it.
GUARD_S = 240.0


# -- waiting ----------------------------------------------------------------------------------------------------------

def wait_until(predicate: Callable[[], object], timeout: float = GUARD_S, interval: float = 0.05,
               what: str = "the condition", alive: Callable[[], object] | None = None) -> None:
    """Return as soon as ``predicate()`` is true; fail after ``timeout`` s (a hang), or at once when ``alive()``
    turns false (the process or thread that should bring the state has ended without it).

    ``interval`` is how often the state is looked at, not a guess at how long anything takes.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if alive is not None and not alive():
            if predicate():  # reached just before it ended
                return
            pytest.fail(f"{what}: what should bring it ended first")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not reached within the {timeout:.0f} s guard")
        time.sleep(interval)  # polls a state: the wait ends when the state is reached


async def wait_for(pilot: Any, cond: Callable[[], object], timeout: float = GUARD_S) -> None:
    """Let the app run until ``cond()`` is true (an exception counts as false: the screen may not be composed yet);
    fail after ``timeout`` s. Every wait is for a state the app must reach; the guard only turns a hang into a failure.
    """
    deadline = time.monotonic() + timeout

    def ok() -> bool:
        try:
            return bool(cond())
        except Exception:  # noqa: BLE001 - the screen may not be composed yet
            return False

    while not ok():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


def start_search(search: Any) -> threading.Thread:
    """Run ``search.run()`` in a daemon thread (as the app does) and return the thread."""
    thread = threading.Thread(target=search.run, name="test-search", daemon=True)
    thread.start()
    return thread


# -- the app ----------------------------------------------------------------------------------------------------------

def stopped_run(config: Any, dataset: Any, out: Path, name: str) -> Any:
    """Record a fit of ``config`` on ``dataset`` as ``out/name``, stopped after its first batch; its Summary."""
    from engine import runs
    from engine.events import BatchEvaluated
    from engine.search import Search

    rec = runs.record(config, dataset, out=out, name=name)
    search: Any = None

    def stop(ev: object) -> None:
        if isinstance(ev, BatchEvaluated):
            search.cancel()

    search = Search(config, dataset, listeners=[rec.listener, stop], checkpointer=rec.checkpointer)
    try:
        return search.run()
    finally:
        rec.close()


def aio(f: Callable[..., Any]) -> Callable[..., Any]:
    """Run an async test with asyncio (no pytest-asyncio plugin needed)."""
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(f(*args, **kwargs))
    return wrapper


def feed(app: Any, events: Any) -> None:
    """Show engine events on the app's screen, in order, as the bridge would."""
    for e in events:
        app.screen.show_event(e)


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Logs print local wall-clock stamps: a module that imports this runs every test in UTC (snapshots match)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# -- the CLI in-process -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """What a command returned and printed (named as subprocess.CompletedProcess names them)."""

    returncode: int
    stdout: str
    stderr: str


def run_main(*argv: str) -> Result:
    """``wcfit-tui ARGV`` via tui.main.main in this process, its output captured; XLA_FLAGS is restored after.

    Bad-input cases need no new interpreter and no recompilation; one real-entry-point subprocess per concern stays in
    the test files (``python -m tui.cli.fit``), so the installed command is still exercised.
    """
    import jax

    from tui.main import main

    jax.devices()  # JAX starts here as every other test starts it: main() would start it with one device per core

    flags = os.environ.get("XLA_FLAGS")  # main() may add the CPU device count for a JAX that has not started
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as e:  # argparse's --help and usage errors
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    finally:
        if flags is None:
            os.environ.pop("XLA_FLAGS", None)
        else:
            os.environ["XLA_FLAGS"] = flags
    return Result(int(code or 0), out.getvalue(), err.getvalue())


# -- data -------------------------------------------------------------------------------------------------------------

def random_structure(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Dense symmetric weights in [0, 1] and tract lengths of 20–120 mm between random points (zero diagonals)."""
    c = rng.uniform(0.0, 1.0, (n, n))
    c = (c + c.T) / 2
    np.fill_diagonal(c, 0.0)
    pts = rng.uniform(0.0, 80.0, (n, 3))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1) + 20.0
    np.fill_diagonal(d, 0.0)
    return c, d


def make_small_dataset(n: int = 12, seed: int = 1) -> Any:
    """A random n-node dataset: dense symmetric weights, tract lengths 20–120 mm, a random target FC."""
    from engine.data.dataset import Dataset

    rng = np.random.default_rng(seed)
    c, d = random_structure(n, rng)
    x = rng.normal(size=(200, n))
    fc = np.corrcoef(x @ rng.normal(size=(n, n)), rowvar=False)
    return Dataset(name=f"small{n}", source="generated", cmat=c, dmat=d, target_fc=fc, n_scans=0, n_timepoints=0)


def cluster_dataset(n: int = 12, scans: int = 2, t: int = 60, seed: int = 3) -> Any:
    """A random n-node dataset with BOLD scans whose FCs differ (one subject per scan), TR 0.72 s."""
    from engine.data.dataset import Dataset, functional_connectivity

    rng = np.random.default_rng(seed)
    c, d = random_structure(n, rng)
    bolds = tuple(rng.normal(size=(t, n)) @ rng.normal(size=(n, n)) for _ in range(scans))
    fc = np.mean([functional_connectivity(b) for b in bolds], axis=0)
    return Dataset(name=f"gen{n}", source="generated", cmat=c, dmat=d, target_fc=fc, n_scans=scans,
                   n_timepoints=t, scans=tuple(b.T.copy() for b in bolds), tr_s=0.72)


def scans_dataset(n: int = 8, n_scans: int = 4, t: int = 300, seed: int = 0, labels: bool = True) -> Any:
    """n regions (first half left, labels R{i}_L / R{i}_R), n_scans random BOLD scans that differ from each other."""
    from engine.data.dataset import Dataset, functional_connectivity

    rng = np.random.default_rng(seed)
    c, d = random_structure(n, rng)
    scans = tuple((rng.normal(size=(t, n)) @ rng.normal(size=(n, n))).T for _ in range(n_scans))
    names = tuple(f"R{i}_L" for i in range(n // 2)) + tuple(f"R{i}_R" for i in range(n - n // 2))
    fc = np.mean([functional_connectivity(s.T) for s in scans], axis=0)
    return Dataset(name="scans", source="generated", cmat=c, dmat=d, target_fc=fc, n_scans=n_scans,
                   n_timepoints=t, scans=scans, tr_s=0.72, labels=names if labels else None)


def tiny_npz(folder: Path) -> Path:
    """A 6-node dataset with 3 scans of 50 TRs as ``folder/tiny.npz``."""
    rng = np.random.default_rng(0)
    c = rng.random((6, 6)); c = (c + c.T) / 2; np.fill_diagonal(c, 0)
    d = rng.random((6, 6)) * 50 + 10; d = (d + d.T) / 2; np.fill_diagonal(d, 0)
    path = folder / "tiny.npz"
    np.savez(path, Cmat=c, Dmat=d, BOLDs=rng.standard_normal((3, 6, 50)))
    return path


def make_raw(n: int = 5, scans: int = 3, t: int = 40, seed: int = 0) -> dict[str, Any]:
    """A small valid dataset as plain arrays: symmetric weights, lengths in mm, scans N×T, labels, TR."""
    rng = np.random.default_rng(seed)
    c = rng.random((n, n))
    c = (c + c.T) / 2
    np.fill_diagonal(c, 0.0)
    c /= c.max()
    d = rng.uniform(5, 150, (n, n))
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0.0)
    common = rng.standard_normal((1, t))
    bolds = [rng.standard_normal((n, t)) + 0.4 * common for _ in range(scans)]
    return {"Cmat": c, "Dmat": d, "BOLDs": bolds, "TR": 2.0, "labels": [f"ROI_{i}" for i in range(n)]}


def matrix_text(m: np.ndarray, sep: str = " ") -> str:
    return "".join(sep.join(repr(float(x)) for x in row) + "\n" for row in m)


def table_text(names: list[str], bold: np.ndarray, sep: str = "\t") -> str:
    """A T×N table with a header row of region names (bold is N×T)."""
    return sep.join(names) + "\n" + "".join(sep.join(repr(float(x)) for x in row) + "\n" for row in bold.T)


def write_folder(root: Path, ds: dict[str, Any], *, structure: str = "txt", series: str = "tsv",
                 sidecar: dict[str, Any] | None = None, centres: bool = False) -> Path:
    """A dataset folder: structure as weights/tract_lengths .txt/.csv or a TVB zip, one table per subject."""
    root.mkdir(parents=True, exist_ok=True)
    labels = ds.get("labels") or [f"r{i}" for i in range(len(ds["Cmat"]))]
    if structure == "zip":
        with zipfile.ZipFile(root / "connectivity_5.zip", "w") as z:
            z.writestr("weights.txt", matrix_text(ds["Cmat"]))
            z.writestr("tract_lengths.txt", matrix_text(ds["Dmat"]))
            if centres:
                z.writestr("centres.txt", "".join(f"{x}\t1.0\t2.0\t3.0\n" for x in labels))
    else:
        sep = "," if structure == "csv" else " "
        (root / f"weights.{structure}").write_text(matrix_text(ds["Cmat"], sep))
        (root / f"tract_lengths.{structure}").write_text(matrix_text(ds["Dmat"], sep))
        if centres:
            (root / "centres.txt").write_text("".join(f"{x} 1.0 2.0 3.0\n" for x in labels))
    for k, bold in enumerate(ds["BOLDs"]):
        (root / f"sub-{k + 1:02d}_timeseries.{series}").write_text(
            table_text(labels, bold, "\t" if series == "tsv" else ","))
    if sidecar is not None:
        (root / "dataset.json").write_text(json.dumps(sidecar))
    return root


# -- a fake objective and a recorded fit with it ----------------------------------------------------------------------

FAKE_N = 6  #: the node count of the fake objective's FC (the datasets fake_fit is given have 6 nodes)


class FakeObjective:
    """A deterministic stand-in for the JAX objective: loss = distance to k = 1.7, plus 0.1 (no compilation)."""

    description = "fake device"
    compiled = True

    def __init__(self, batch: int, fail_after: int | None = None) -> None:
        self.batch = batch

    def __call__(self, values: np.ndarray, first_lane: int = 0) -> Any:
        from engine.model.objective import BatchResult

        values = np.asarray(values, np.float64).reshape(len(values), -1)
        losses = np.abs(values - 1.7).sum(axis=1) + 0.1
        b = int(np.argmin(losses))
        fc = np.full((FAKE_N, FAKE_N), float(losses[b]))
        return BatchResult(losses=losses, flags=tuple("" for _ in losses), best_index=b, best_fc=fc,
                           wall_s=0.01, compile_s=0.0)


def fake_fit(data: Path, out: Path, name: str, *, budget: int = 8, batch: int = 2,
             cancel_after: int | None = None, blank_checkpoint: bool = False, objective: Any = None,
             **fields: Any) -> Path:
    """A recorded fit of the dataset file ``data`` with the fake objective (fast, no JAX); returns the run directory.

    ``fields``: more FitConfig fields (optimizer, seed, bounds…)."""
    from engine import runs
    from engine.config import FitConfig
    from engine.data.dataset import load_dataset
    from engine.events import BatchEvaluated
    from engine.search import Search

    config = FitConfig(**{"data": str(data), "duration_ms": 50, "batch": batch, "budget": budget, **fields})
    dataset = load_dataset(config.data)
    rec = runs.record(config, dataset, out=str(out), name=name)
    search: Search

    def cancel(ev: Any) -> None:
        if cancel_after is not None and isinstance(ev, BatchEvaluated) and ev.evaluations >= cancel_after:
            search.cancel()

    class Blank:
        def save(self, *, proposer: bytes, evaluations: int, batches: int) -> None:
            rec.checkpointer.save(proposer=b"", evaluations=evaluations, batches=batches)

    with rec:
        search = Search(config, dataset, listeners=[rec.listener, cancel], objective=objective or FakeObjective(batch),
                        checkpointer=Blank() if blank_checkpoint else rec.checkpointer)
        search.run()
    return rec.path


def stopped_study(path: Path, config: Any, by: str, *, ids: Any = None, subjects: int = 2, objective: Any = None
                  ) -> list[Any]:
    """A study at ``path`` of the first ``subjects`` subjects of ``config.data`` (split ``by``), whose first subject
    stopped after one batch (as after Ctrl+C) and whose others never started; returns the subjects."""
    from engine import runs
    from engine.data.dataset import load_dataset
    from engine.events import BatchEvaluated
    from engine.search import Search
    from engine.study import run as st

    source = load_dataset(config.data)
    chosen = (st.split_subjects(source, by, ids) if ids is not None else st.split_subjects(source, by))[:subjects]
    st.create_study(path, config, source, chosen, by)
    first = st.subject_dataset(source, chosen[0])
    rec = runs.record(config, first, out=path, name=chosen[0].name)
    search: Search

    def stop_after_one(event: object) -> None:
        if isinstance(event, BatchEvaluated):
            search.cancel()

    search = Search(config, first, listeners=[rec.listener, stop_after_one], checkpointer=rec.checkpointer,
                    objective=objective)
    with rec:
        assert search.run().status == "stopped"
    return chosen


# -- a local Ray head -------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def session_pids(sid: int) -> list[int]:
    """The ids of every process in session ``sid``."""
    out = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True).stdout
    return [int(p) for p, s in (line.split() for line in out.splitlines() if line.strip()) if int(s) == sid]


@contextlib.contextmanager
def start_ray_head(num_cpus: int, num_gpus: int) -> Iterator[str]:
    """A local Ray head offering ``num_cpus`` CPUs and ``num_gpus`` GPUs (both stated: Ray would count them itself) on
    a free port; yields its address, ends all its processes afterwards."""
    ray = (__import__("ray") if os.environ.get("CI") else pytest.importorskip("ray"))
    # Ray's unix sockets need a short path (≤ 107 bytes): the suite's root, not pytest's deeper per-worker folder
    tmp = Path(tempfile.mkdtemp(prefix="ray", dir=os.environ.get("WCFIT_TEST_ROOT")))
    port = free_port()
    env = dict(os.environ, RAY_TMPDIR=str(tmp), RAY_AUTH_MODE="disabled", PYTHONPATH=str(ROOT),
               RAY_health_check_period_ms="500", RAY_health_check_failure_threshold="4")  # a dead host seen in ~2 s
    patch = pytest.MonkeyPatch()
    patch.setenv("RAY_AUTH_MODE", "disabled")  # this process connects as a driver: no token either
    exe = Path(sys.executable).with_name("ray")
    head = subprocess.Popen([str(exe), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
                             "--port", str(port), "--num-cpus", str(num_cpus), "--num-gpus", str(num_gpus),
                             "--disable-usage-stats", "--include-dashboard", "false"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "head.err", "w"))
    address = f"127.0.0.1:{port}"

    def listening() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    try:
        try:
            wait_until(listening, interval=0.3, alive=lambda: head.poll() is None, what="the Ray head listening")
        except pytest.fail.Exception as e:
            pytest.fail(f"{e}; the Ray head said: " + (tmp / "head.err").read_text()[-2000:])
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        patch.undo()
        for sig in (signal.SIGTERM, signal.SIGKILL):  # the head and every process it started (its session)
            for pid in session_pids(head.pid):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            try:
                head.wait(3)
            except subprocess.TimeoutExpired:
                pass
        if head.poll() is None:
            head.kill()
            head.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# -- the product's XLA level --------------------------------------------------------------------------------------------

_OPT_FLAG = "--xla_backend_optimization_level"


def xla_opt_level() -> str | None:
    """The XLA backend optimisation level XLA_FLAGS names; None for XLA's default (3), the one the product uses."""
    for flag in os.environ.get("XLA_FLAGS", "").split():
        if flag.startswith(f"{_OPT_FLAG}="):
            return flag.split("=", 1)[1]
    return None


def at_product_xla_level() -> bool:
    """Whether this process compiles at XLA's default optimisation level, the one the product uses."""
    return xla_opt_level() is None


def rerun_at_product_xla_level(nodeid: str) -> None:
    """Run one test again in a child pytest at the product's XLA level (the suite's root, HOME and cache); fail with
    its output where it fails. For promises of identical bits, which hold at the level the product compiles at."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT"))}
    env["XLA_FLAGS"] = " ".join(f for f in env.get("XLA_FLAGS", "").split() if not f.startswith(f"{_OPT_FLAG}="))
    env["WCFIT_TEST_XLA_DEFAULT"] = "1"
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", nodeid],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=4 * GUARD_S)
    assert r.returncode == 0, f"{nodeid} at XLA's default level:\n{r.stdout[-4000:]}{r.stderr[-2000:]}"
