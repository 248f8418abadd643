"""What the layout promises at run time: the cluster's module loads without JAX (a Ray actor sets its CPU
devices before JAX starts), the unraisable hook is wrapped once however often ``main`` runs, and the command
line and the app have one parser."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_cluster_objective_and_run_directories_load_without_jax():
    code = ("import sys, engine.cluster.objective, engine.runs, engine.search; "
            "print('jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


def test_main_wraps_the_unraisable_hook_once(monkeypatch, tmp_path, capsys):
    from tui.cli import fit

    original = sys.unraisablehook
    monkeypatch.setattr(sys, "unraisablehook", original)
    monkeypatch.setattr(fit, "_QUIETED", False)
    for _ in range(3):
        assert fit.main(["runs", "--json", str(tmp_path)]) == 0
        assert capsys.readouterr().out == ""  # an empty folder: no run, no line
    assert sys.unraisablehook is not original  # wrapped ...
    assert sys.unraisablehook.__closure__[0].cell_contents is original  # ... once: it calls the original itself


def test_the_console_script_is_the_command_line_parser():
    import tui.main
    from tui.cli.fit import build_parser, main

    assert tui.main.main is main
    sub = next(a for a in build_parser()._actions if a.dest == "command")  # noqa: SLF001 - argparse's own table
    assert {"fit", "resume", "runs", "export", "study", "simulate", "bench", "data", "serve", "attach", "info"} \
        <= set(sub.choices)


def test_auto_workers_follow_the_cores_with_three_at_least_and_sixteen_at_most(monkeypatch):
    """README's test command runs ``-n auto``: the suite's hook gives one worker per core, three on a two-core machine
    (a third pays there: much of the suite waits), sixteen at most, and xdist's own variable still overrides it."""
    from tests import conftest

    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    for cores, workers in ((1, 3), (2, 3), (8, 8), (64, 16)):
        monkeypatch.setattr(conftest.os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert conftest.pytest_xdist_auto_num_workers(None) == workers
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "5")
    assert conftest.pytest_xdist_auto_num_workers(None) == 5
