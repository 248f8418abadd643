"""The Python API: the documented notebook example (docs/api.md, linked from README) runs exactly as printed, and what
it prints is the fit's own result."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "docs" / "api.md"  # the API's page of the docs README links


def _example() -> str:
    text = README.read_text()
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


@pytest.mark.slow
def test_the_readme_example_runs_as_printed(capsys):
    code = _example()
    assert code.splitlines()[0] == "from engine.api import FitConfig, fit, load_dataset, simulate"  # one import
    assert len(code.strip().splitlines()) <= 10
    scope: dict = {}
    exec(compile(code, str(README), "exec"), scope)  # noqa: S102 - the documented example, verbatim
    summary, sim, events, data = scope["summary"], scope["sim"], scope["events"], scope["data"]
    assert summary.status == "finished" and summary.evaluations == 4
    assert set(summary.best_params) == {"k"} and 0.5 <= summary.best_params["k"] <= 3.0
    from engine.events import BatchEvaluated, Finished, Started

    assert isinstance(events[0], Started) and isinstance(events[-1], Finished)
    assert sum(len(e.losses) for e in events if isinstance(e, BatchEvaluated)) == 4
    n = data.n_nodes
    assert sim.fc.shape == (n, n) and sim.rE.shape[1] == n and np.isfinite(sim.fc).all()
    # the simulated best candidate scores what the fit logged for it (same noise, same settings)
    assert sim.loss == pytest.approx(summary.best_loss, abs=1e-5)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("finished {'k': ")
    assert out[1] == f"({n}, {n}) {round(sim.fc_corr, 3)} {len(events)}"


def test_fit_records_a_run_directory_only_when_asked(tmp_path, monkeypatch, small):
    from engine import runs
    from engine.api import FitConfig, fit

    monkeypatch.chdir(tmp_path)
    config = FitConfig(duration_ms=60.0, batch=2, budget=2, bounds={"k": (0.5, 3.0)}, fixed={"sigma": 0.05})
    assert fit(config, small).status == "finished"
    assert list(tmp_path.iterdir()) == []  # run_dir=None: nothing written
    summary = fit(config, small, run_dir=tmp_path / "runs", name="one")
    assert summary.status == "finished"
    assert runs.run_info(tmp_path / "runs" / "one").status == "finished"
