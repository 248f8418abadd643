"""The headless CLI end to end: the real entry point in a subprocess as a user runs it (a fit's JSON summary, a bad
input, Ctrl+C), everything else through the same ``main()`` in-process (no new interpreter, nothing recompiled)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from tests.support import GUARD_S, run_main, wait_until

ROOT = Path(__file__).resolve().parents[1]


def wcfit(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the suite's shared compilation cache (conftest)
    return subprocess.run([sys.executable, "-m", "tui.cli.fit", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=timeout)


def test_fit_on_the_bundled_data_prints_a_json_summary(tmp_path):
    r = wcfit("fit", "--preset", "tutorial", "--duration", "100", "--budget", "4", "--batch", "2", "--json", "--out",
              str(tmp_path), "--fresh", "0")  # the fresh-noise verdict: tests/test_verdict.py
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["status"] == "finished" and summary["evaluations"] == 4
    from engine import runs

    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]  # the recorded run: the summary is its best row
    rows = runs.read_log(run / runs.LOG)
    best = min(rows, key=lambda row: row["loss"])
    assert [row["evaluation"] for row in rows] == [0, 1, 2, 3]
    assert summary["best_loss"] == pytest.approx(best["loss"], abs=1e-12) and summary["best_params"] == best["params"]
    # the tutorial's loss is 1 − r of the best candidate's FC
    assert summary["fc_corr"] == pytest.approx(1 - best["loss"], abs=1e-6) and 0 < summary["fc_corr"] < 1
    assert summary["dataset"] == "hcp80 (bundled)"
    # the subprocess inherits the suite's environment, so it runs where the in-process tests run (conftest's header)
    kind = jax.devices()[0].device_kind  # 'cpu' on a CPU box, e.g. 'NVIDIA H100 80GB HBM3' on a CUDA one
    assert re.match(rf"[12]× {re.escape(kind)}, batch 2\b", summary["device"]), summary["device"]  # ≤ 2 devices at batch 2
    assert "Traceback" not in r.stderr


def test_fit_on_a_generated_dataset_of_another_n(tmp_path):
    rng = np.random.default_rng(0)
    n, scans, t = 7, 2, 150
    c = rng.random((n, n)); c = (c + c.T) / 2
    d = rng.uniform(5, 100, (n, n)); d = (d + d.T) / 2
    np.savez(tmp_path / "seven.npz", Cmat=c, Dmat=d, BOLDs=rng.standard_normal((scans, n, t)))
    r = run_main("fit", "--preset", "tutorial", "--data", str(tmp_path / "seven.npz"), "--param", "k=0.1:2",
                 "--param", "sigma=0.01:0.1",
                 "--optimizer", "RandomSearch", "--duration", "100", "--budget", "3", "--batch", "3", "--no-record", "--fresh", "0")
    assert r.returncode == 0, r.stderr
    assert "N = 7" in r.stdout and "seven" in r.stdout
    assert "k = " in r.stdout and "sigma = " in r.stdout


@pytest.mark.parametrize("args, phrase", [
    (["--data", "/no/such/file.msgpack"], "not found"),
    (["--param", "k=3:0.5"], "inverted"),
    (["--param", "k"], "NAME=LO:HI"),
    (["--optimizer", "Nope"], "unknown optimizer"),
    (["--fixed", "sigma=-1"], "valid range"),
    (["--batch", "x"], "invalid int value"),
])
def test_bad_input_is_one_line_and_exit_2(args, phrase):
    r = run_main("fit", "--no-record", *args)  # in-process: the same main() as the command
    assert r.returncode == 2
    assert phrase in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bad_input_through_the_real_entry_point_is_one_line_and_exit_2():
    r = wcfit("fit", "--no-record", "--param", "k=3:0.5")
    assert r.returncode == 2
    assert "inverted" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_help_documents_options_and_registry():
    r = run_main("fit", "--help")
    assert r.returncode == 0
    for word in ("--param", "--fixed", "--optimizer", "--batch", "--budget", "--duration", "--dt", "--transient",
                 "--seed", "--json", "signal_speed", "theta_E", "ext_E"):
        assert word in r.stdout


def test_info_reports_the_backend():
    r = run_main("info")
    assert r.returncode == 0 and "backend" in r.stdout and "device 0" in r.stdout


def _default_sigint() -> None:
    """In the child: Ctrl+C's default, as in a terminal's foreground job (a suite started in the background by a
    non-interactive shell ignores SIGINT, and an ignored signal stays ignored across exec)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _fit_proc(tmp_path: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the suite's shared compilation cache (conftest)
    return subprocess.Popen([sys.executable, "-m", "tui.cli.fit", "fit", "--preset", "tutorial", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env, preexec_fn=_default_sigint)


@pytest.mark.slow
def test_ctrl_c_stops_after_the_batch_with_exit_0_and_status_stopped(tmp_path):
    import signal

    from engine import runs

    run = tmp_path / "runs" / "c"
    proc = _fit_proc(tmp_path, "--duration", "50", "--budget", "20000", "--batch", "2", "--out", str(tmp_path / "runs"),
                     "--name", "c")
    try:
        try:  # the first batch logged: the fit is running
            wait_until(lambda: len(runs.read_log(run / runs.LOG)) >= 2, interval=0.1, alive=lambda: proc.poll() is None,
                       what="the first batch logged")
        except pytest.fail.Exception as e:
            pytest.fail(f"{e}\n{proc.communicate()[1][-2000:] if proc.poll() is not None else ''}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=GUARD_S)  # a guard: the fit ends after the batch it is in
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    status = json.loads((run / runs.STATUS).read_text())
    assert status["status"] == "stopped" and status["summary"]["evaluations"] < 20000  # a budget the fit cannot spend before the signal
    assert status["summary"]["evaluations"] == len(runs.read_log(run / runs.LOG))


def test_an_optimizer_that_fails_gives_exit_1(tmp_path):
    r = run_main("fit", "--preset", "tutorial", "--optimizer", "Powell", "--duration", "50", "--budget", "4", "--batch",
                 "4", "--out", str(tmp_path))
    assert r.returncode == 1, r.stderr
    assert "fit failed" in r.stderr and "Powell" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_a_fixed_value_reaches_the_simulation(tmp_path):
    """--fixed tau_ou=7: the recorded losses are those of the Objective with tau_ou 7, not with the default 10."""
    from engine import runs
    from engine.config import FitConfig
    from engine.data.dataset import load_dataset
    from engine.model.objective import Objective

    rng = np.random.default_rng(2)
    n = 6
    c = rng.random((n, n)); c = (c + c.T) / 2; np.fill_diagonal(c, 0)
    d = rng.uniform(5, 100, (n, n)); d = (d + d.T) / 2; np.fill_diagonal(d, 0)
    np.savez(tmp_path / "six.npz", Cmat=c, Dmat=d, BOLDs=rng.standard_normal((2, n, 150)))
    r = run_main("fit", "--preset", "tutorial", "--data", str(tmp_path / "six.npz"), "--fixed", "tau_ou=7", "--optimizer",
                 "Grid", "--duration", "100", "--budget", "2", "--batch", "2", "--out", str(tmp_path), "--name", "fx", "--fresh", "0")
    assert r.returncode == 0, r.stderr
    run = tmp_path / "fx"
    config = FitConfig.from_json((run / runs.CONFIG).read_text())
    assert config.fixed == {"sigma": 0.05, "tau_ou": 7.0}
    rows = runs.read_log(run / runs.LOG)
    values = np.array([[r_["params"]["k"]] for r_ in rows])
    dataset = load_dataset(str(tmp_path / "six.npz"))
    with_fixed = Objective(dataset, config)(values).losses
    default = Objective(dataset, config.replace(fixed={"sigma": 0.05}))(values).losses
    recorded = np.array([r_["loss"] for r_ in rows])
    np.testing.assert_allclose(recorded, with_fixed, rtol=0, atol=1e-12)
    assert np.abs(recorded - default).min() > 1e-4


def test_every_summary_row_keeps_a_space_between_its_label_and_its_text() -> None:
    """The label column is 16 wide; '  test map alone' is 16 characters and ran into its value ('alonefcgradient')."""
    from types import SimpleNamespace

    from tui.cli.options.scoring import summary_lines

    summary = SimpleNamespace(map_baselines={"fcgradient": 0.684}, test_map_baselines={"fcgradient": 0.695},
                              fresh=None, tradeoff=None, held_out=None, edges="all", realizations=1)
    lines = summary_lines(summary)
    assert [line.split()[:3] for line in lines] == [["map", "alone", "fcgradient"], ["test", "map", "alone"]]
    assert lines[0].startswith("map alone       fcgradient 0.684")  # the 16-wide column unchanged for shorter labels
    assert lines[1].startswith("  test map alone fcgradient 0.695")
