"""One fit on a local Ray cluster with two CPU actors, and per-subject studies.

A module fixture starts a Ray head on 127.0.0.1 (free port, its own temp dir, auth off, 2 CPUs and 0 GPUs stated: on
a GPU box Ray would offer its GPU, and the fit would run one GPU actor where these tests check CPU actors) as a child
process in its own session and ends every process of that session at teardown. The actors are CPU actors on any
machine (a CPU slot's actor keeps JAX on the CPU), so their losses are compared with a local objective on the CPU.
GPU actors: ``test_a_gpu_host_runs_one_gpu_actor`` (marked ``gpu``). Skipped where Ray is not installed
(CI installs ``.[test,cluster]``).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import jax
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import runs  # noqa: E402
from engine.config import FitConfig  # noqa: E402
from engine.events import ActorsUpdated, BatchEvaluated, Warned  # noqa: E402
from engine.runs.layout import ACTORS  # noqa: E402
from engine.model.objective import Objective  # noqa: E402
from engine.search import Search  # noqa: E402
from engine.study.run import subject_statuses  # noqa: E402
from tests.support import cluster_dataset as make_dataset  # noqa: E402
from tests.support import session_pids as _session_pids  # noqa: E402
from tests.support import fake_fit, start_ray_head, start_search, stopped_study, wait_for, wait_until  # noqa: E402

pytestmark = pytest.mark.slow
N = 12
SHORT = dict(duration_ms=300.0, bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05}, fresh_seeds=0)  # no verdict: test_verdict


@pytest.fixture(autouse=True)
def _keep_xla_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI called in-process sets XLA_FLAGS for its own JAX; later tests' subprocesses must not inherit it."""
    monkeypatch.setenv("XLA_FLAGS", os.environ.get("XLA_FLAGS", ""))


@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    """A local Ray head with 2 CPUs and no GPU, whatever the machine has: these tests fit on CPU actors."""
    with start_ray_head(num_cpus=2, num_gpus=0) as address:
        yield address


@pytest.fixture(scope="module")
def data_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated dataset as an .npz file (Cmat, Dmat, BOLDs)."""
    ds = make_dataset()
    path = tmp_path_factory.mktemp("data") / "gen.npz"
    np.savez(path, Cmat=ds.cmat, Dmat=ds.dmat, BOLDs=np.stack(ds.scans), TR=0.72)
    return path


@pytest.fixture
def cluster_objective(ray_head: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A cluster objective (2 one-core actors, batch 6; common noise unless the test says own), closed after."""
    from engine.cluster.objective import ClusterObjective

    common = getattr(request, "param", True)
    cfg = FitConfig(batch=6, budget=18, seed=4, common_noise=common, **SHORT)
    obj = ClusterObjective(make_dataset(), cfg, address=ray_head, cpu_actors=2)
    yield obj
    obj.close()


def test_cluster_scores_as_a_local_run(cluster_objective: Any) -> None:
    """Common noise here; the kill test below checks own noise against a local run."""
    obj = cluster_objective
    ds, cfg = obj.dataset, obj.config
    local = Objective(ds, cfg, devices=jax.devices("cpu"))  # where the CPU actors run, on a GPU box too
    values = np.linspace(0.6, 2.9, 6, dtype=np.float32).reshape(-1, 1)
    for first in (0, 37):  # noise keyed by evaluation number: the batch's place in the run matters, not the actors
        mine, theirs = local(values, first_lane=first), obj(values, first_lane=first)
        np.testing.assert_allclose(theirs.losses, mine.losses, rtol=0, atol=1e-5)
        assert theirs.best_index == mine.best_index
        np.testing.assert_allclose(theirs.best_fc, mine.best_fc, rtol=0, atol=1e-5)
    short = obj(values[:4], first_lane=9)  # a short last batch: shares shrink, numbering stays
    np.testing.assert_allclose(short.losses, local(values[:4], first_lane=9).losses, rtol=0, atol=1e-5)
    rows = obj.actor_rows()
    assert len(rows) == 2 and all(r.state == "ready" and r.lanes >= 3 and r.platform == "cpu" for r in rows)
    assert sum(r.share for r in rows) == 4 and all(r.candidates_per_s and r.candidates_per_s > 0 for r in rows)
    assert all(r.memory_total and r.memory_in_use for r in rows)
    assert "2 actors" in obj.description


def _kill_and_wait(handle: Any) -> None:
    """Kill an actor and return once it is dead: ray.kill only asks, and an actor still alive when the next batch goes
    out would score its share and die a batch later than the test says (seen once under load)."""
    import ray

    ray.kill(handle)
    deadline = time.monotonic() + 60  # a generous guard; it is dead within a few polls
    while time.monotonic() < deadline:
        try:
            ray.get(handle.describe.remote(), timeout=10)
        except ray.exceptions.RayActorError:
            return
        except ray.exceptions.GetTimeoutError:
            continue
        threading.Event().wait(0.1)
    raise AssertionError("the killed actor still answers after 60 s")


@pytest.mark.parametrize("cluster_objective", [False], ids=["own-noise"], indirect=True)
def test_an_actor_killed_mid_fit_is_rescored_on_the_other(cluster_objective: Any) -> None:
    obj = cluster_objective
    events: list[Any] = []
    victim: list[int] = []

    def listen(event: Any) -> None:
        events.append(event)
        if isinstance(event, BatchEvaluated) and event.batch_index == 0:
            # the driver still counts on the victim: its share of batch 1 goes out and fails mid-batch. The victim is
            # the actor batch 0 measured fastest, which the plan gives batch 1's first share whatever the load: an
            # actor measured over twice as slow gets no share of 6 candidates and would never be seen to die
            speeds = [a.seconds_per_call for a in obj._actors]  # noqa: SLF001 - the plan's own estimates
            victim.append(int(np.argmin(speeds)))
            _kill_and_wait(obj.actor_handle(victim[0]))

    search = Search(obj.config, obj.dataset, listeners=[listen], objective=obj)
    obj.on_warning = lambda m: listen(Warned(message=m))
    summary = search.run()
    assert summary.status == "finished" and summary.evaluations == obj.config.budget
    batches = [e for e in events if isinstance(e, BatchEvaluated)]
    numbers = [b.first_evaluation + i for b in batches for i in range(len(b.losses))]
    assert numbers == list(range(obj.config.budget))  # every evaluation once, in order
    actors = [e for e in events if isinstance(e, ActorsUpdated)]  # as they start, then after each batch
    assert [a.batch_index for a in actors] == [None] + [b.batch_index for b in batches]
    for a, b in zip(actors[1:], batches):
        assert events.index(a) > events.index(b) and sum(r.share for r in a.rows) == len(b.losses)
    assert [r.state for r in actors[1].rows] == ["ready", "ready"] and all(r.share for r in actors[1].rows)
    dead, other = victim[0], 1 - victim[0]
    assert [r.state for r in actors[-1].rows] == ["dead" if i == dead else "ready" for i in (0, 1)]
    assert actors[-1].rows[dead].share == 0
    died = [e.message for e in events if isinstance(e, Warned) and "died" in e.message]
    assert len(died) == 1 and f"actor {dead} " in died[0] and "died in the batch from evaluation 6" in died[0]
    assert "rescored" in died[0]
    rows = obj.actor_rows()
    assert rows[dead].state == "dead" and rows[other].state == "ready"
    assert rows[other].share == len(batches[-1].losses)
    local = Objective(obj.dataset, obj.config, devices=jax.devices("cpu"))  # the same candidates, numbered as in the run
    for b in batches:
        np.testing.assert_allclose(b.losses, local(b.values, first_lane=b.first_evaluation).losses, rtol=0, atol=1e-5)


def _assert_the_share_was_rescored(thread: Any, search: Search, events: list[Any], obj: Any, cfg: FitConfig) -> None:
    """After a kill inside batch 1: the fit ends with its whole budget, one actor dead and one warning, and every
    batch's losses, the rescored share's too, equal a local fit's (own noise keyed by evaluation number, not by actor)."""
    thread.join(300)
    assert not thread.is_alive()
    summary = search.summary
    assert summary.status == "finished" and summary.evaluations == cfg.budget
    died = [e.message for e in events if isinstance(e, Warned) and "died" in e.message]
    assert len(died) == 1 and "died in the batch from evaluation 6" in died[0] and "rescored" in died[0]
    assert sorted(r.state for r in obj.actor_rows()) == ["dead", "ready"]
    batches = [e for e in events if isinstance(e, BatchEvaluated)]
    assert [b.first_evaluation for b in batches] == [0, 6, 12]
    local = Objective(obj.dataset, cfg, devices=jax.devices("cpu"))  # on the CPU, as the actors
    for b in batches:
        np.testing.assert_allclose(b.losses, local(b.values, first_lane=b.first_evaluation).losses, rtol=0, atol=1e-5)


def test_an_actor_that_dies_inside_a_batch_has_its_share_rescored(ray_head: str, monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    """One actor's process is killed while it is scoring its share of batch 1 (it holds there until killed, so
    the kill is mid-batch on any machine): that share is rescored on the other actor and the fit ends as a local one."""

    from engine.cluster import actors as actors_mod
    from engine.cluster import objective as cluster_mod
    from tests import _cluster_hold

    hold = _cluster_hold.hold_dir()
    shutil.rmtree(hold, ignore_errors=True)
    hold.mkdir(parents=True)
    (hold / "armed").touch()
    monkeypatch.setattr(actors_mod, "Scorer", _cluster_hold.HoldingScorer)  # the class start_actors starts
    cfg = FitConfig(batch=6, budget=18, seed=4, common_noise=False, **SHORT)
    obj = cluster_mod.ClusterObjective(make_dataset(), cfg, address=ray_head, cpu_actors=2)
    events: list[Any] = []
    try:
        search = Search(cfg, obj.dataset, listeners=[events.append], objective=obj)
        obj.on_warning = lambda m: events.append(Warned(message=m))
        thread = start_search(search)
        inside = hold / "inside"
        wait_until(lambda: inside.exists() and inside.read_text(), alive=thread.is_alive, what="an actor inside batch 1")
        os.kill(int((hold / "inside").read_text()), signal.SIGKILL)  # the actor's process, inside its share
        _assert_the_share_was_rescored(thread, search, events, obj, cfg)
    finally:
        obj.close()
        shutil.rmtree(hold, ignore_errors=True)


def test_a_host_that_dies_inside_a_batch_has_its_share_rescored(ray_head: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second Ray node joins the head as a host of its own (its raylet, object store and workers); its actor holds
    inside its share of batch 1, and the whole node is killed there: the share is rescored on the head's actor."""
    import ray

    from engine.cluster import actors as actors_mod
    from engine.cluster import objective as cluster_mod
    from tests import _cluster_hold

    hold = _cluster_hold.hold_dir()
    shutil.rmtree(hold, ignore_errors=True)
    hold.mkdir(parents=True)
    (hold / "armed").touch()
    (hold / "node-only").touch()
    tmp = Path(tempfile.mkdtemp(prefix="node", dir=os.environ.get("WCFIT_TEST_ROOT")))
    env = dict(os.environ, RAY_TMPDIR=str(tmp), RAY_AUTH_MODE="disabled", PYTHONPATH=str(ROOT),
               WCFIT_TEST_HOLD_NODE="1")
    node = subprocess.Popen([str(Path(sys.executable).with_name("ray")), "start", "--address", ray_head, "--block",
                             "--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--num-gpus", "0",
                             "--disable-usage-stats"],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    monkeypatch.setattr(actors_mod, "Scorer", _cluster_hold.HoldingScorer)  # the class start_actors starts
    cfg = FitConfig(batch=6, budget=18, seed=4, common_noise=False, **SHORT)
    obj = None
    try:
        cluster_mod.connect(ray_head)
        wait_until(lambda: sum(1 for n in ray.nodes() if n["Alive"]) >= 2, interval=0.2,
                   alive=lambda: node.poll() is None, what="the second node joined")
        obj = cluster_mod.ClusterObjective(make_dataset(), cfg, address=ray_head, cpu_actors=1)  # one actor per host
        events: list[Any] = []
        search = Search(cfg, obj.dataset, listeners=[events.append], objective=obj)
        obj.on_warning = lambda m: events.append(Warned(message=m))
        thread = start_search(search)
        inside = hold / "inside"
        wait_until(lambda: inside.exists() and inside.read_text(), alive=thread.is_alive,
                   what="the node's actor inside batch 1")
        pids = _session_pids(node.pid)
        assert int((hold / "inside").read_text()) in pids  # the holding actor is the second host's
        rows = obj.actor_rows()
        assert len(rows) == 2 and sum(r.pid in pids for r in rows) == 1  # one actor on each host
        for pid in pids:  # the whole host: raylet, object store, its workers
            os.kill(pid, signal.SIGKILL)
        _assert_the_share_was_rescored(thread, search, events, obj, cfg)
    finally:
        if obj is not None:
            obj.close()
        for pid in _session_pids(node.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        node.wait(10)
        shutil.rmtree(hold, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


def test_when_every_actor_dies_the_fit_fails_and_keeps_its_results(cluster_objective: Any) -> None:
    obj = cluster_objective

    def listen(event: Any) -> None:
        if isinstance(event, BatchEvaluated) and event.batch_index == 0:
            for i in range(2):
                _kill_and_wait(obj.actor_handle(i))

    events: list[Any] = []
    summary = Search(obj.config, obj.dataset, listeners=[events.append, listen], objective=obj).run()
    assert summary.status == "failed" and "every actor" in summary.reason and "resumed" in summary.reason
    assert summary.evaluations == 6 and summary.best_loss is not None  # the first batch's results are kept
    assert sum(len(e.losses) for e in events if isinstance(e, BatchEvaluated)) == 6


def test_the_app_fits_on_the_cluster_and_its_device_panel_lists_the_actor(ray_head: str, data_npz: Path,
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from textual.widgets import Input
    from tui.app import WcfitApp
    from tui.widgets.device_panel import DevicePanel

    monkeypatch.chdir(tmp_path)  # the app writes its run directory under ./wcfit-runs

    async def drive() -> None:
        app = WcfitApp(str(data_npz), probe_devices=False)
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen
            form = screen.query_one("#form")
            await wait_for(pilot, lambda: form.dataset is not None)
            screen.query_one("#preset").value = "tutorial"  # FC of rE: a short candidate is a real fit
            # the preset's Select.Changed fills the form (and validates it) in one handling: wait for that, then type
            await wait_for(pilot, lambda: form.config is not None and form.config.preset == "tutorial")
            for name, value in (("batch", "4"), ("budget", "8"), ("duration_ms", "300"), ("cluster", ray_head)):
                screen.query_one(f"#{name}", Input).value = value
            try:
                await wait_for(pilot, lambda: not screen.query_one("#start").disabled and form.config is not None
                               and form.config.budget == 8)
            except AssertionError:
                raise AssertionError(str(screen.query_one("#start-reason").render())) from None
            await pilot.press("f5")
            await wait_for(pilot, lambda: screen.state in ("finished", "failed"))
            assert screen.state == "finished", screen.summary.reason
            assert screen.summary.evaluations == 8 and "Ray" in screen.summary.device
            rows = screen.query_one(DevicePanel).actors
            assert len(rows) == 1 and rows[0].state == "ready" and rows[0].share == 4  # one CPU host: one actor
            assert rows[0].candidates_per_s and rows[0].candidates_per_s > 0

    asyncio.run(drive())
    (run,) = (tmp_path / "wcfit-runs").iterdir()
    recorded = json.loads((run / "actors.json").read_text())["actors"]
    assert [(a["state"], a["share"]) for a in recorded] == [("ready", 4)]


def test_cluster_without_ray_is_one_line_and_exit_2(data_npz: Path, tmp_path: Path) -> None:
    code = ("import sys; sys.modules['ray'] = None; from tui.cli.fit import main; "
            f"sys.exit(main(['fit', '--data', {str(data_npz)!r}, '--cluster', '127.0.0.1:1', '--out', {str(tmp_path)!r}]))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip().splitlines() == ['wcfit-tui: Ray is not installed; --cluster needs it: pip install -e ".[cluster]"']
    assert not any(tmp_path.iterdir())  # no run directory was started


def test_an_address_nobody_answers_on_is_one_line_and_exit_2(data_npz: Path, tmp_path: Path) -> None:
    (__import__("ray") if os.environ.get("CI") else pytest.importorskip("ray"))
    with socket.socket() as s:  # a port that refuses
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    p = subprocess.run([sys.executable, "-m", "tui.main", "fit", "--data", str(data_npz), "--cluster", dead,
                        "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert p.returncode == 2 and p.stdout == "" and not any(tmp_path.iterdir())
    assert p.stderr.strip().splitlines() == [f"wcfit-tui: cannot reach the Ray cluster at {dead}: Connection refused "
                                             "(start it with: ray start --head)"]


def test_study_of_two_subjects_on_the_cluster(ray_head: str, data_npz: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli.fit import main

    study = tmp_path / "study"
    argv = ["study", "--preset", "tutorial", "--data", str(data_npz), "--out", str(study), "--cluster", ray_head, "--cpu-actors", "2",
            "--budget", "4", "--batch", "2", "--duration", "300", "--quiet", "--fresh", "0"]
    assert main(argv) == 0
    manifest = json.loads((study / "study.json").read_text())
    assert [s["scans"] for s in manifest["subjects"]] == [[0], [1]]
    capsys.readouterr()
    assert main(["runs", str(study), "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["subject"], r["status"], r["evaluations"]) for r in listed] == \
        [("subject-000", "finished", 4), ("subject-001", "finished", 4)]
    logs = {r["subject"]: (study / r["subject"] / "candidates.jsonl").read_bytes() for r in listed}
    assert main(argv) == 0  # again: the study resumes as a whole, finished subjects are not fitted again
    assert all((study / n / "candidates.jsonl").read_bytes() == b for n, b in logs.items())
    assert main(["export", str(study), "--csv"]) == 0
    rows = list(csv.DictReader((study / "export" / "study.csv").open()))
    ds = make_dataset()
    iu = np.triu_indices(N, k=1)
    for i, row in enumerate(rows):
        run = study / row["subject"]
        target = np.corrcoef(ds.scans[i])  # this subject's own scan only (regions are rows)
        np.testing.assert_allclose(np.load(run / "target_fc.npy"), target, atol=1e-12)
        best = json.loads((run / "best.json").read_text())
        assert float(row["loss"]) == best["loss"] and float(row["k"]) == best["params"]["k"]
        fc = np.load(run / "best_fc" / f"{best['evaluation']:08d}.npy")
        assert float(row["fc_corr"]) == pytest.approx(np.corrcoef(fc[iu], target[iu])[0, 1], abs=1e-12)
        assert float(row["structural_baseline"]) == pytest.approx(np.corrcoef(ds.cmat[iu], target[iu])[0, 1],
                                                                  abs=1e-12)
    assert rows[0]["structural_baseline"] != rows[1]["structural_baseline"]  # each subject against its own FC


def test_resume_on_the_cluster_through_the_command_line(ray_head: str, data_npz: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """``resume RUN --cluster``: a run stopped after its first batch in this process finishes on the cluster's two
    actors — they score the rest of its budget (actors.json, the summary's device), the first batch's rows are kept,
    and the resumed rows' losses are what one process computes for the same candidates and evaluation numbers."""
    from engine.data.dataset import load_dataset
    from tui.cli.fit import main

    cfg = FitConfig(data=str(data_npz), batch=4, budget=8, seed=4, **SHORT)
    local = Objective(load_dataset(cfg.data), cfg, devices=jax.devices("cpu"))  # where the CPU actors run
    run = fake_fit(data_npz, tmp_path, "part", budget=8, batch=4, cancel_after=4, objective=local, seed=4, **SHORT)
    before = runs.candidate_rows(runs.read_log(run / runs.LOG))
    assert [r["evaluation"] for r in before] == [0, 1, 2, 3] and not (run / ACTORS).exists()
    capsys.readouterr()
    assert main(["resume", str(run), "--cluster", ray_head, "--cpu-actors", "2", "--quiet", "--json"]) == 0
    out, err = capsys.readouterr()
    assert f"resuming {run} at evaluation 4 of 8" in err and "Traceback" not in err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "finished" and summary["evaluations"] == 8
    assert "Ray" in summary["device"] and "2 actors" in summary["device"]
    actors = json.loads((run / ACTORS).read_text())["actors"]  # written by the cluster's batches only
    assert [a["state"] for a in actors] == ["ready", "ready"] and sum(a["share"] for a in actors) == 4
    rows = runs.candidate_rows(runs.read_log(run / runs.LOG))
    assert [r["evaluation"] for r in rows] == list(range(8)) and rows[:4] == before  # each once, the first kept
    resumed = rows[4:]
    values = np.array([[r["params"][n] for n in cfg.names] for r in resumed], np.float32)
    np.testing.assert_allclose([r["loss"] for r in resumed], local(values, first_lane=4).losses, rtol=0, atol=1e-5)


def test_a_study_whose_actor_dies_says_so_in_one_line_and_resumes(ray_head: str, data_npz: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """``study --cluster`` on one actor: subject-000 finishes, then the actor's process is killed inside subject-001's
    second batch (it holds there until killed, so the death is mid-study on any machine). The study says so in one
    line, no traceback; subject-000 and subject-001's first batch are kept; ``resume STUDY --cluster`` fits the rest
    of subject-001 from its checkpoint and leaves subject-000 as it was."""
    from engine.cluster import actors as actors_mod
    from tests import _cluster_hold
    from tui.cli.fit import main

    hold = _cluster_hold.hold_dir()
    shutil.rmtree(hold, ignore_errors=True)
    hold.mkdir(parents=True)
    (hold / "armed").write_text("subject-001:2")  # only subject-001, from its second batch (evaluation 2) on
    monkeypatch.setattr(actors_mod, "Scorer", _cluster_hold.HoldingScorer)  # the class start_actors starts
    study = tmp_path / "study"
    argv = ["study", "--preset", "tutorial", "--data", str(data_npz), "--out", str(study), "--cluster", ray_head,
            "--cpu-actors", "1", "--budget", "4", "--batch", "2", "--duration", "300", "--quiet", "--fresh", "0"]
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(main(argv)), daemon=True)
    try:
        thread.start()
        inside = hold / "inside"
        wait_until(lambda: inside.exists() and inside.read_text(), alive=thread.is_alive,
                   what="the actor inside subject-001's second batch")
        os.kill(int(inside.read_text()), signal.SIGKILL)  # the only actor's process, mid-subject
        wait_until(lambda: not thread.is_alive(), what="the study's end after its actor died")
    finally:
        (hold / "armed").unlink(missing_ok=True)
    out, err = capsys.readouterr()  # (Ray itself may print a "(raylet) A worker died" line to stdout)
    assert codes == [1] and "Traceback" not in out + err  # a subject left unfinished: exit 1, as a failed fit
    died = [line for line in err.splitlines() if "died" in line]
    assert len(died) == 1 and re.fullmatch(r"subject-001: its actor on \S+ \(cpu 0\) died; no actor left: "
                                           r"run the study again", died[0]), err
    assert f"study {study}: 1 of 2 subject(s) finished" in out
    assert [(s.name, s.status, s.evaluations) for s in subject_statuses(study)] == \
        [("subject-000", "finished", 4), ("subject-001", "failed", 2)]
    logs = {n: (study / n / runs.LOG).read_bytes() for n in ("subject-000", "subject-001")}

    assert main(["resume", str(study), "--cluster", ray_head, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "subject-001: resuming at evaluation 2 of 4" in err and "Traceback" not in out + err
    assert (study / "subject-000" / runs.LOG).read_bytes() == logs["subject-000"]  # not fitted again
    assert (study / "subject-001" / runs.LOG).read_bytes().startswith(logs["subject-001"])  # its first batch kept
    rows = runs.candidate_rows(runs.read_log(study / "subject-001" / runs.LOG))
    assert [r["evaluation"] for r in rows] == [0, 1, 2, 3]
    assert [s.status for s in subject_statuses(study)] == ["finished", "finished"]
    shutil.rmtree(hold, ignore_errors=True)


def test_info_lists_the_actors_a_fit_would_start(ray_head: str, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli.fit import main

    assert main(["info", "--cluster", ray_head]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("1 node(s), 2 CPU, 0 GPU") and ray_head in lines[0]
    assert len(lines) == 2 and lines[1].startswith("  actor 0: ") and "2× cpu" in lines[1] and "memory" in lines[1]


def test_bench_cluster_through_the_command_line(ray_head: str, data_npz: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli.fit import main

    argv = ["bench", "--cluster", ray_head, "--cpu-actors", "2", "--batch", "4", "--duration", "300",
            "--repeats", "1", "--data", str(data_npz), "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["address"] == ray_head and out["n_nodes"] == N and len(out["rows"]) == 1
    row = out["rows"][0]
    assert row["batch"] == 4 and row["cluster"]["actors"] == 2
    assert sum(row["cluster"]["shares"]) == 4  # the batch split over both actors, nothing lost or doubled
    # the same candidates, the same (common) noise: the cluster scores what one process scores
    assert row["max_loss_difference"] < 1e-5
    assert row["speedup"] == pytest.approx(row["one_process"]["wall_s"] / row["cluster"]["wall_s"])


class _Fake:
    """A stand-in objective (no JAX): loss = distance to k = 1.7."""

    description = "fake"
    compiled = True

    def __call__(self, values: np.ndarray, first_lane: int = 0) -> Any:
        from engine.model.objective import BatchResult

        losses = np.abs(np.asarray(values, np.float64)[:, 0] - 1.7)
        b = int(np.argmin(losses))
        return BatchResult(losses=losses, flags=("",) * len(losses), best_index=b, best_fc=np.eye(N),
                           wall_s=0.01, compile_s=0.0)


def test_a_local_study_resumes_a_stopped_subject(data_npz: Path, tmp_path: Path) -> None:
    from engine.study import run as st

    cfg = FitConfig(data=str(data_npz), batch=2, budget=4, seed=2, **SHORT)
    path = tmp_path / "study"
    subjects = stopped_study(path, cfg, "scan", subjects=1, objective=_Fake())
    log_path = path / subjects[0].name / "candidates.jsonl"
    before = log_path.read_bytes()
    assert [s.status for s in st.subject_statuses(path)] == ["stopped"]
    said: list[str] = []
    assert st.Study(path, say=said.append, quiet=True).run_local() == {"subject-000": "finished"}
    assert any("subject-000: resuming at evaluation 2 of 4" in m for m in said)
    assert [r["evaluation"] for r in runs.read_log(log_path)] == [0, 1, 2, 3]  # each once
    assert log_path.read_bytes().startswith(before)  # the first batch kept as it was
    assert st.Study(path, say=said.append).run_local() == {}  # finished: nothing left to fit
