"""Tests for engine.runs / tui.cli.runs: run directories, crash-safe resume, follow, listing, export, faults."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import runs  # noqa: E402
from engine.config import NOISE_STREAM_VERSION, FitConfig  # noqa: E402
from engine.data.dataset import load_dataset  # noqa: E402
from engine.events import BatchEvaluated, Failed, Finished, NewBest, Started  # noqa: E402
from engine.runs import RunError, RunWriteError  # noqa: E402
from engine.runs.checkpoint import _CheckpointUnpickler  # noqa: E402
from engine.search import Search  # noqa: E402
from tests.support import FAKE_N as N, FakeObjective, fake_fit, run_main, wait_until  # noqa: E402
from tests.support import GUARD_S  # noqa: E402


# ---------------------------------------------------------------------------
# helpers


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated dataset (N=6) saved as .npz."""
    rng = np.random.default_rng(0)
    c = rng.random((N, N))
    c = (c + c.T) / 2
    np.fill_diagonal(c, 0)
    d = rng.random((N, N)) * 50 + 10
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0)
    path = tmp_path_factory.mktemp("data") / "small.npz"
    np.savez(path, Cmat=c, Dmat=d, BOLDs=rng.standard_normal((3, N, 50)))
    return path


def rows_of(run: Path) -> list[dict[str, Any]]:
    return runs.read_log(run / runs.LOG)


def env_with_cache(tmp_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    cache = os.environ.get("WCFIT_CACHE_DIR") or str(tmp_root / "jax-cache")  # the suite's shared cache (conftest)
    env.update(JAX_COMPILATION_CACHE_DIR=cache, JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
               # on the CPU unless the suite's JAX_PLATFORMS says otherwise: these fits are compared with each other
               # (killed, resumed, uninterrupted), never with an in-process run, so they need one backend, not the suite's
               PYTHONPATH=str(ROOT), JAX_PLATFORMS=env.get("JAX_PLATFORMS", "cpu"))
    return env


# ---------------------------------------------------------------------------
# layout, listing, export


def test_run_directory_layout_and_replay(small_npz: Path, tmp_path: Path) -> None:
    run = fake_fit(small_npz, tmp_path, "a")
    for name in (runs.MARKER, runs.CONFIG, runs.DATASET_INFO, runs.DATASET_ARRAYS, runs.TARGET_FC, runs.LOG,
                 runs.STATUS, runs.MANIFEST, runs.BEST):
        assert (run / name).is_file(), name
    assert FitConfig.from_json((run / runs.CONFIG).read_text()).budget == 8
    rows = rows_of(run)
    assert [r["evaluation"] for r in rows] == list(range(8))
    assert set(runs.LOG_FIELDS) <= set(rows[0])
    assert json.loads((run / runs.STATUS).read_text())["status"] == "finished"
    assert len(list(run.glob("checkpoint-*.pkl"))) == 1  # older checkpoints are removed
    events = list(runs.follow(run, threading.Event(), poll_s=0.05))
    assert isinstance(events[0], Started) and isinstance(events[-1], Finished)
    batches = [e for e in events if isinstance(e, BatchEvaluated)]
    assert [b.batch_index for b in batches] == [0, 1, 2, 3] and batches[-1].evaluations == 8
    bests = [e for e in events if isinstance(e, NewBest)]
    assert bests and bests[-1].loss == min(r["loss"] for r in rows)
    assert np.allclose(bests[-1].model_fc, bests[-1].loss)  # the stored FC of that evaluation
    assert events[-1].summary.evaluations == 8


def test_export_formats(small_npz: Path, tmp_path: Path) -> None:
    run = fake_fit(small_npz, tmp_path, "exp")
    csv_path = runs.export(run, "csv")
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "evaluation,batch,k,loss,fc_corr,flag,time" and len(lines) == 9
    summary = json.loads(runs.export(run, "json", tmp_path / "s.json").read_text())
    assert summary["status"] == "finished" and summary["evaluations"] == 8
    best = min(rows_of(run), key=lambda r: r["loss"])
    assert summary["best"]["loss"] == best["loss"] and summary["config"]["budget"] == 8
    with np.load(runs.export(run, "npz", tmp_path)) as z:
        assert np.allclose(z["difference"], z["model"] - z["target"])
        assert z["target"].shape == (N, N) and np.allclose(z["model"], best["loss"])
    with pytest.raises(RunError, match="unknown export format"):
        runs.export(run, "xlsx")


def test_export_through_the_command_line(small_npz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``wcfit-tui export RUN --csv --json --npz --fc``: each file written where it says, with the run's numbers; a
    run named under ./wcfit-runs; ``--output`` for one format; one-line refusals (exit 2) for nothing or too much asked."""
    run = fake_fit(small_npz, tmp_path / "wcfit-runs", "exp")
    rows = rows_of(run)
    best = min(rows, key=lambda r: r["loss"])
    monkeypatch.chdir(tmp_path)
    r = run_main("export", "exp", "--csv", "--json", "--npz", "--fc")  # by name, under ./wcfit-runs
    assert r.returncode == 0, r.stderr
    paths = [Path(line) for line in r.stdout.splitlines()]
    assert [p.name for p in paths] == ["candidates.csv", "summary.json", "fcs.npz", "best_fc.csv"]
    assert all(p.is_file() and p.parent.resolve() == (run / "export").resolve() for p in paths)
    lines = paths[0].read_text().splitlines()
    assert len(lines) == 1 + len(rows) and lines[0].startswith("evaluation,batch,k,loss")
    assert [float(line.split(",")[3]) for line in lines[1:]] == [row["loss"] for row in rows]
    summary = json.loads(paths[1].read_text())
    assert summary["best"]["loss"] == best["loss"] and summary["evaluations"] == len(rows)
    with np.load(paths[2]) as z:
        assert np.allclose(z["model"], best["loss"]) and np.allclose(z["difference"], z["model"] - z["target"])
    fc = np.loadtxt(paths[3], delimiter=",", skiprows=1, usecols=range(1, N + 1))
    assert fc.shape == (N, N) and np.allclose(fc, best["loss"])  # the fake's best FC is its best loss everywhere
    one = tmp_path / "only.json"
    r = run_main("export", str(run), "--json", "--output", str(one))
    assert r.returncode == 0 and r.stdout.strip() == str(one) and json.loads(one.read_text()) == summary
    for argv, phrase in ((("export", str(run)), "choose what to export"),
                         (("export", str(run), "--csv", "--json", "-o", str(one)), "existing directory"),
                         (("export", "nope", "--csv"), "no run 'nope'")):
        r = run_main(*argv)
        assert r.returncode == 2 and phrase in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_listing_statuses(small_npz: Path, tmp_path: Path) -> None:
    fake_fit(small_npz, tmp_path, "done")
    fake_fit(small_npz, tmp_path, "stopped", cancel_after=2)
    config = FitConfig(data=str(small_npz), duration_ms=50, batch=2, budget=8)
    live = runs.record(config, load_dataset(config.data), out=str(tmp_path), name="live")
    # a writer that dies without a final event: status says running, nobody holds the lock
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from engine import runs; from engine.config import FitConfig;"
            "from engine.data.dataset import load_dataset; c = FitConfig(data=sys.argv[2], duration_ms=50, batch=2, budget=8);"
            "runs.record(c, load_dataset(c.data), out=sys.argv[3], name='dead'); import os; os._exit(0)")
    subprocess.run([sys.executable, "-c", code, str(ROOT), str(small_npz), str(tmp_path)], check=True, timeout=60)
    (tmp_path / "not-a-run").mkdir()
    try:
        listed = {r.name: r for r in runs.list_runs(tmp_path)}
        assert {k: v.status for k, v in listed.items()} == {
            "done": "finished", "stopped": "stopped", "live": "running", "dead": "crashed"}
        assert listed["done"].evaluations == 8 and listed["stopped"].evaluations == 2
        assert listed["done"].best_loss is not None and "k" in listed["done"].best_params
        assert listed["live"].pid == str(os.getpid())
        r = run_main("runs", str(tmp_path), "--json")  # the same listing, one JSON object a line
        assert r.returncode == 0, r.stderr
        rows = {d["name"]: d for d in map(json.loads, r.stdout.splitlines())}
        assert {k: (d["status"], d["evaluations"], d["budget"]) for k, d in rows.items()} == \
            {k: (v.status, v.evaluations, v.budget) for k, v in listed.items()}
        assert rows["done"]["best_loss"] == listed["done"].best_loss and rows["done"]["best_params"] == \
            dict(listed["done"].best_params)
        assert rows["live"]["pid"] == str(os.getpid()) and rows["done"]["path"] == str(tmp_path / "done")
    finally:
        live.close()


# ---------------------------------------------------------------------------
# faults


def test_second_writer_refused(small_npz: Path, tmp_path: Path) -> None:
    run = fake_fit(small_npz, tmp_path, "r", cancel_after=4)
    first = runs.record_existing(run)
    try:
        with pytest.raises(RunError, match="is live: process"):
            runs.record_existing(run)
        config = FitConfig(data=str(small_npz), duration_ms=50, batch=2, budget=8)
        with pytest.raises(RunError, match="already exists"):
            runs.record(config, load_dataset(config.data), out=str(tmp_path), name="r")
    finally:
        first.recorder.close()


def test_resume_refuses_finished_and_foreign_dirs(small_npz: Path, tmp_path: Path, capsys: Any) -> None:
    run = fake_fit(small_npz, tmp_path, "fin")
    with pytest.raises(RunError, match="finished"):
        runs.record_existing(run)
    (tmp_path / "plain").mkdir()
    with pytest.raises(RunError, match="not a wcfit run directory"):
        runs.record_existing(tmp_path / "plain")
    from tui.cli.fit import main

    assert main(["resume", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "finished" in err and "Traceback" not in err
    assert main(["export", str(tmp_path / "nope"), "--csv"]) == 2


def test_torn_last_line_tolerated_and_dropped_on_resume(small_npz: Path, tmp_path: Path) -> None:
    run = fake_fit(small_npz, tmp_path, "torn", cancel_after=4)
    before = rows_of(run)
    with open(run / runs.LOG, "ab") as f:
        f.write(b'{"evaluation": 4, "batch": 2, "params": {"k": 1.')  # killed mid-append
    assert rows_of(run) == before
    assert runs.run_info(run).evaluations == 4
    events = list(runs.follow(run, threading.Event(), poll_s=0.05))
    assert sum(isinstance(e, BatchEvaluated) for e in events) == 2
    config, dataset, resume, rec = runs.record_existing(run)
    with rec:
        assert resume.evaluations == 4 and rows_of(run) == before
        assert (run / runs.LOG).read_bytes().endswith(b"\n")
        Search(config, dataset, listeners=[rec.listener], objective=FakeObjective(2), checkpointer=rec.checkpointer,
               resume=resume).run()
    assert [r["evaluation"] for r in rows_of(run)] == list(range(8))
    assert rows_of(run)[:4] == before


def test_resume_says_when_the_noise_stream_changed(small_npz: Path, tmp_path: Path) -> None:
    run = fake_fit(small_npz, tmp_path, "stream", cancel_after=4)
    marker = json.loads((run / runs.MARKER).read_text())
    assert marker["noise_stream"] == NOISE_STREAM_VERSION
    _, _, _, rec = runs.record_existing(run)
    with rec:
        assert not any("noise stream" in n for n in rec.notes)
    del marker["noise_stream"]  # a run written before the stream was stamped: stream 1
    (run / runs.MARKER).write_text(json.dumps(marker))
    _, _, resume, rec = runs.record_existing(run)
    with rec:
        assert resume.evaluations == 4
        assert any(f"drew noise stream 1 and this version draws stream {NOISE_STREAM_VERSION}" in n for n in rec.notes)


def test_unpicklable_optimizer_restarts_fresh(small_npz: Path, tmp_path: Path) -> None:
    run = fake_fit(small_npz, tmp_path, "blank", cancel_after=4, blank_checkpoint=True)
    config, dataset, resume, rec = runs.record_existing(run)
    with rec:
        assert resume.evaluations == 4
        assert any("restarts fresh" in n for n in rec.notes)
        Search(config, dataset, listeners=[rec.listener], objective=FakeObjective(2), checkpointer=rec.checkpointer,
               resume=resume).run()
    assert [r["evaluation"] for r in rows_of(run)] == list(range(8))


def test_tampered_checkpoint_refused_without_unpickling(small_npz: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    run = fake_fit(small_npz, tmp_path, "tamper", cancel_after=4)
    manifest = json.loads((run / runs.MANIFEST).read_text())
    ckpt = run / manifest["file"]
    calls: list[int] = []
    monkeypatch.setattr(_CheckpointUnpickler, "load", lambda self: calls.append(1))  # must never run
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append(1))
    blob = bytearray(ckpt.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    ckpt.write_bytes(bytes(blob))
    with pytest.raises(RunError, match="does not match the SHA-256"):
        runs.record_existing(run)
    # a manifest pointing outside the run directory, or at a symlink, is refused too
    for name in ("../evil.pkl", "/tmp/evil.pkl"):
        (run / runs.MANIFEST).write_text(json.dumps(dict(manifest, file=name)))
        with pytest.raises(RunError, match="unexpected file"):
            runs.record_existing(run)
    link = run / "checkpoint-999999.pkl"
    link.symlink_to(ckpt)
    (run / runs.MANIFEST).write_text(json.dumps(dict(manifest, file=link.name)))
    with pytest.raises(RunError, match="not a regular file"):
        runs.record_existing(run)
    (run / runs.MARKER).unlink()
    with pytest.raises(RunError, match="not a wcfit run directory"):
        runs.record_existing(run)
    assert calls == []
    assert runs.lock_holder(run) is None  # every refusal released the lock


class _Evil:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> Any:
        return (os.mkdir, (str(self.target),))


def test_checkpoint_with_foreign_globals_not_loaded(small_npz: Path, tmp_path: Path) -> None:
    run = fake_fit(small_npz, tmp_path, "evil", cancel_after=4)
    manifest = json.loads((run / runs.MANIFEST).read_text())
    blob = pickle.dumps(_Evil(tmp_path / "pwned"))
    (run / manifest["file"]).write_bytes(blob)  # even with a matching checksum ...
    (run / runs.MANIFEST).write_text(json.dumps(dict(manifest, sha256=hashlib.sha256(blob).hexdigest(),
                                                     size=len(blob))))
    config, dataset, resume, rec = runs.record_existing(run)
    rec.close()
    assert not (tmp_path / "pwned").exists()  # ... the unpickler does not resolve os.mkdir
    assert any("not loaded" in n and "restarts fresh" in n for n in rec.notes)


def _enospc(*a: Any, **k: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_fails_the_fit_cleanly(small_npz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = FitConfig(data=str(small_npz), duration_ms=50, batch=2, budget=8)
    dataset = load_dataset(config.data)
    rec = runs.record(config, dataset, out=str(tmp_path), name="full")
    real_write = os.write
    seen: list[Any] = []

    def listener(ev: Any) -> None:
        seen.append(ev)
        if isinstance(ev, BatchEvaluated) and ev.batch_index == 1:
            monkeypatch.setattr(os, "write", _enospc)  # the disk fills up after the second batch

    with rec:
        search = Search(config, dataset, listeners=[listener, rec.listener], objective=FakeObjective(2),
                        checkpointer=rec.checkpointer)
        summary = search.run()
    monkeypatch.setattr(os, "write", real_write)
    assert summary.status == "failed"
    assert f"cannot write run directory {rec.path}: No space left on device" in summary.reason
    assert isinstance(seen[-1], Failed) and summary.evaluations == 4
    assert [r["evaluation"] for r in rows_of(rec.path)] == [0, 1]  # what was written is intact
    assert FitConfig.from_json((rec.path / runs.CONFIG).read_text()) == config
    assert json.loads((rec.path / runs.MANIFEST).read_text())["evaluations"] == 2
    assert runs.lock_holder(rec.path) is None
    assert runs.run_info(rec.path).status in ("failed", "crashed")


def test_unwritable_root_is_one_clear_error(small_npz: Path, tmp_path: Path) -> None:
    config = FitConfig(data=str(small_npz), duration_ms=50, batch=2, budget=8)
    dataset = load_dataset(config.data)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunWriteError, match="cannot create run root"):
        runs.record(config, dataset, out=str(blocker / "runs"))
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(RunWriteError, match="Permission denied"):
                runs.record(config, dataset, out=str(ro))
        finally:
            ro.chmod(0o700)


# ---------------------------------------------------------------------------
# the real thing: a live fit in another process, followed, killed mid-batch, resumed


KILL_BUDGET = 8  # 4 batches of 2: the kill comes in the third, whatever the machine's speed (the fit holds there)


def kill_config(small_npz: Path) -> FitConfig:
    # no fresh-noise verdict: these runs are compared row by row, and each verdict would simulate 30 s 8 times more
    return FitConfig(data=str(small_npz), duration_ms=30000, batch=2, budget=KILL_BUDGET, seed=3, fresh_seeds=0)


@pytest.fixture(scope="module")
def uninterrupted(small_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The log of the same fit never killed (run once for both kill points)."""
    tmp = tmp_path_factory.mktemp("whole")
    cfg_path = tmp / "config.json"
    cfg_path.write_text(kill_config(small_npz).to_json())
    whole = subprocess.run([sys.executable, str(ROOT / "tests" / "_runs_fit.py"), "fit", str(cfg_path), str(tmp),
                            "whole"], env=env_with_cache(tmp), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert whole.returncode == 0, whole.stdout[-2000:]
    return rows_of(tmp / "whole")


@pytest.mark.slow
@pytest.mark.parametrize("hold", ["call:3", "save:6"])
def test_kill9_mid_batch_then_resume(small_npz: Path, tmp_path: Path, hold: str,
                                     uninterrupted: list[dict[str, Any]]) -> None:
    """Killed inside the third batch's device call (call:3), or after the third batch was logged but before its
    checkpoint was written (save:6: those rows are on disk and must be redone, not kept or doubled); resumed, the run
    equals one never killed."""
    config = kill_config(small_npz)
    cfg_path = tmp_path / "config.json"
    cfg_path.write_text(config.to_json())
    out = tmp_path / "runs"
    run = out / "crash"
    held = tmp_path / "held"
    env = dict(env_with_cache(tmp_path), WCFIT_TEST_HOLD=hold, WCFIT_TEST_HOLD_FILE=str(held))
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "_runs_fit.py"), "fit", str(cfg_path), str(out),
                             "crash"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    stop = threading.Event()
    seen: list[tuple[float, Any]] = []

    ended = threading.Event()  # set when follow has ended (it ends on its own once the run is seen crashed)

    def watch() -> None:
        try:
            wait_until(lambda: (run / runs.MARKER).exists() or stop.is_set(), what="the run directory")
            for ev in runs.follow(run, stop, poll_s=0.2):
                seen.append((time.monotonic(), ev))
        finally:
            ended.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        # the fit holds where asked (it never gets further); wait for that and for follow to have seen its batches
        # (compiling takes seconds to minutes on a loaded 2-core machine: the guard is generous)
        try:
            wait_until(lambda: held.exists() and sum(isinstance(ev, BatchEvaluated) for _, ev in list(seen)) >= 2,
                       alive=lambda: proc.poll() is None, what="the hold point, with follow's batches")
        except pytest.fail.Exception as e:
            pytest.fail(f"{e}\n{proc.stdout.read().decode() if proc.stdout and proc.poll() is not None else ''}")
        killed_at = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait()  # SIGKILL cannot be caught: the process ends
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert ended.wait(GUARD_S), "follow did not end on the crashed run"
    live_batches = [t for t, ev in seen if isinstance(ev, BatchEvaluated) and t < killed_at]
    assert len(live_batches) >= 2, "follow saw no batches while the fit was live"
    assert isinstance(seen[-1][1], Failed) and seen[-1][1].summary.status == "crashed"
    assert runs.run_info(run).status == "crashed"

    manifest = json.loads((run / runs.MANIFEST).read_text())
    done = manifest["evaluations"]
    assert done == 4  # two batches checkpointed
    logged = rows_of(run)
    # mid-batch: nothing of the third batch on disk; after its log lines: rows 4, 5 logged but not checkpointed
    assert [r["evaluation"] for r in logged] == list(range(4 if hold.startswith("call") else 6))
    before = logged[:done]

    res = subprocess.run([sys.executable, "-m", "tui.cli.fit", "resume", str(run), "--quiet"], env=env_with_cache(tmp_path),
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    final = rows_of(run)
    assert [r["evaluation"] for r in final] == list(range(KILL_BUDGET))  # exactly the budget, none lost or doubled
    assert final[:done] == before  # pre-crash rows (losses, params, times) unchanged
    status = json.loads((run / runs.STATUS).read_text())
    assert status["status"] == "finished" and status["summary"]["evaluations"] == KILL_BUDGET
    assert len(status["starts"]) == 2
    assert runs.run_info(run).status == "finished"
    assert "restarts fresh" not in res.stdout + res.stderr  # the real DE checkpoint was loaded, not restarted
    # README: a resumed run scores identically: the same candidates and losses as a run that was never killed
    strip = lambda rows: [(r["evaluation"], r["batch"], r["params"], r["loss"], r["flag"]) for r in rows]  # noqa: E731
    assert strip(final) == strip(uninterrupted)
    again = run_main("resume", str(run))
    assert again.returncode == 2 and "finished" in again.stderr and "Traceback" not in again.stderr


# ---------------------------------------------------------------------------
# resume gives the same result as not stopping; a permission fault as any user


@pytest.mark.parametrize("optimizer", ["DE", "CMA"])
def test_resumed_run_equals_an_uninterrupted_one(small_npz: Path, tmp_path: Path, optimizer: str) -> None:
    """Stopped after two batches and resumed from its real checkpoint: the same candidates and losses, row for row,
    as a run that never stopped (the deterministic fake objective isolates the optimizer's restored state)."""
    def fit(name: str, cancel_after: int | None) -> Path:
        return fake_fit(small_npz, tmp_path, name, budget=10, batch=2, cancel_after=cancel_after, optimizer=optimizer,
                        seed=7, bounds={"k": (0.5, 3.0), "sigma": (0.0, 0.2)}, fixed={})

    whole = fit("whole", None)
    part = fit("part", 4)
    assert len(rows_of(part)) == 4
    config, dataset, resume, rec = runs.record_existing(part)
    with rec:
        assert rec.notes == []  # the checkpoint loaded: no restart, no warm start
        assert resume.evaluations == 4 and resume.batches == 2
        Search(config, dataset, listeners=[rec.listener], objective=FakeObjective(2), checkpointer=rec.checkpointer,
               resume=resume).run()
    strip = lambda rows: [(r["evaluation"], r["batch"], r["params"], r["loss"], r["flag"]) for r in rows]  # noqa: E731
    assert strip(rows_of(part)) == strip(rows_of(whole))
    assert json.loads((part / runs.STATUS).read_text())["summary"]["best_params"] == \
        json.loads((whole / runs.STATUS).read_text())["summary"]["best_params"]


@pytest.mark.parametrize("where", ["root", "run", "file"])
def test_permission_denied_is_one_clear_error_as_any_user(small_npz: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """EACCES where the run root, the run directory or a file is created (injected: root ignores file modes)."""
    config = FitConfig(data=str(small_npz), duration_ms=50, batch=2, budget=8)
    dataset = load_dataset(config.data)
    out = tmp_path / "runs"
    if where != "root":
        out.mkdir()
    denied = OSError(errno.EACCES, os.strerror(errno.EACCES))
    real_mkdir, real_open = Path.mkdir, os.open

    def mkdir(self: Path, *a: Any, **k: Any) -> None:
        if (where == "root" and self == out) or (where == "run" and self.parent == out):
            raise denied
        real_mkdir(self, *a, **k)

    def open_(path: Any, flags: int, *a: Any, **k: Any) -> int:
        if where == "file" and Path(path).name.startswith(f".{runs.CONFIG}."):
            raise denied
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", open_)
    with pytest.raises(RunWriteError, match="Permission denied") as info:
        runs.record(config, dataset, out=str(out), name="r")
    monkeypatch.undo()
    assert "\n" not in str(info.value)
    assert not (out / "r").exists()  # nothing half-made is left behind
