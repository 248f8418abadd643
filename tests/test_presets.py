"""Presets: the tutorial preset keeps the numbers of before (a regression check); explicit options override a preset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jax
import numpy as np
import pytest

from engine import presets
from tui.cli.fit import add_fit_options, config_from_args
from engine.config import ConfigError, FitConfig
from engine.model.objective import SEGMENT_MS, Objective

GOLDEN = json.loads((Path(__file__).parent / "data" / "tutorial_golden.json").read_text())


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_fit_options(p)
    return p.parse_args(list(argv))


def test_tutorial_preset_is_the_tutorial_setting() -> None:
    cfg = presets.get("tutorial").config()
    assert (cfg.observe, cfg.duration_ms, cfg.transient_ms, cfg.objective, cfg.initial) == ("rE", 6000.0, 0.0, "fc", "random")
    assert cfg.bounds == {"k": (0.5, 3.0)} and cfg.fixed == {"sigma": 0.05}
    # FitConfig's own defaults are the tutorial's too, so run directories written before presets resume unchanged
    assert cfg.replace(preset="") == FitConfig()


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(GOLDEN["cases"]))
def test_tutorial_preset_keeps_the_numbers_of_before(bundled, case: str) -> None:
    """A regression check, not a reference: losses and best FC within float32 tolerance of those the engine itself gave
    before observations and segments existed (the JSON). The tutorial's own code path (brainmass) is compared with
    the engine in tests/test_faithful.py; exact equality here would fail on another CPU, jaxlib build or a GPU."""
    c = GOLDEN["cases"][case]
    cfg = presets.get("tutorial").config(batch=len(c["k"]), duration_ms=c["duration_ms"], common_noise=c["common_noise"])
    obj = Objective(bundled, cfg, devices=jax.devices()[:1])
    # the 6 s cases run in two segments, the 1 s case in one: the numbers of before cover the segmented path too
    assert obj.n_segments == -(-c["duration_ms"] // SEGMENT_MS) == (2 if c["duration_ms"] > 5000 else 1)
    res = obj(np.array(c["k"], np.float32).reshape(-1, 1))
    # 1e-5: test_faithful's loss tolerance against brainmass (float32 rounding over 60,000 steps), 2,000x below the
    # loss's noise-to-noise spread (0.02), so a changed model, noise stream or metric fails
    np.testing.assert_allclose([float(x) for x in res.losses], c["losses"], rtol=0, atol=1e-5)
    assert res.best_index == c["best_index"]
    assert float(np.sum(res.best_fc)) == pytest.approx(c["best_fc_sum"], rel=1e-5)  # 6,400 float32 entries


def test_default_preset_is_a_steady_state_bold_fit() -> None:
    cfg = config_from_args(_args())
    assert cfg.preset == presets.DEFAULT == "bold"
    assert cfg.observe == "bold" and cfg.transient_ms >= 10_000 and cfg.initial == "steady"
    assert cfg.duration_ms - cfg.transient_ms >= 60_000  # minutes of BOLD: FC needs them (README: duration vs r)


def test_options_override_the_preset() -> None:
    cfg = config_from_args(_args("--preset", "tutorial", "--duration", "2000", "--transient", "500", "--seed", "3"))
    assert (cfg.preset, cfg.duration_ms, cfg.transient_ms, cfg.seed, cfg.observe) == ("tutorial", 2000.0, 500.0, 3, "rE")
    cfg = config_from_args(_args("--param", "k=10:20", "--observe", "rE", "--objective", "fc_rmse"))
    assert cfg.bounds == {"k": (10.0, 20.0)} and cfg.observe == "rE" and cfg.objective == "fc_rmse"
    assert cfg.fixed == {"sigma": 0.05}  # the preset's fixed values stay
    cfg = config_from_args(_args("--param", "sigma=0.01:0.1"))
    assert "sigma" not in cfg.fixed  # fitting a parameter the preset fixes un-fixes it
    cfg = config_from_args(_args("--bandpass", "0.01:0.1", "--tr", "2", "--fcd-window", "60", "--fcd-step", "6"))
    assert cfg.bandpass_hz == (0.01, 0.1) and cfg.tr_s == 2.0 and (cfg.fcd_window_s, cfg.fcd_step_s) == (60.0, 6.0)


@pytest.mark.parametrize("argv, phrase", [
    (("--preset", "nope"), "unknown preset 'nope'"),
    (("--observe", "eeg"), "unknown observation 'eeg'"),
    (("--objective", "fc+nope"), "nope"),
    (("--observe", "rE", "--objective", "fc+fcd_ks", "--preset", "tutorial"), "use --observe bold"),
    (("--tr", "0"), "TR must be a positive"),
    (("--tr", "-1"), "TR must be a positive"),
    (("--bandpass", "0.1:0.01"), "0 < LOW < HIGH"),
    (("--bandpass", "low"), "LOW:HIGH"),
    (("--fcd-window", "0"), "FCD window"),
    (("--duration", "1e12"), "32 bits"),
])
def test_bad_observation_settings_are_one_line(argv: tuple[str, ...], phrase: str) -> None:
    with pytest.raises(ConfigError) as e:
        config_from_args(_args(*argv))
    assert phrase in str(e.value) and "\n" not in str(e.value)


def test_a_start_point_is_asked_first_and_checked() -> None:
    from engine.proposers import make_proposer

    cfg = presets.get("bold").config(start={"k": 41.5, "ext_E": 0.12}, budget=8, batch=4)
    first = make_proposer(cfg).ask(4)
    assert first[0].tolist() == [41.5, 0.12] and not np.array_equal(first[1], first[0])
    with pytest.raises(ConfigError, match="outside its bounds"):
        cfg.replace(start={"k": 100.0, "ext_E": 0.1})
    with pytest.raises(ConfigError, match="every fitted parameter"):
        cfg.replace(start={"k": 10.0})
    assert FitConfig.from_json(cfg.to_json()).start == {"k": 41.5, "ext_E": 0.12}


def test_the_regional_preset_searches_from_its_point() -> None:
    """The regional landscape is narrow (README): its search starts at the preset's point — asked first, and CMA's
    distribution centred there — unless the options change which parameters are fitted."""
    from engine.proposers import make_proposer

    p = presets.get("regional")
    cfg = p.config(batch=16, budget=64)
    assert cfg.start == dict(p.point)
    batch = make_proposer(cfg).ask(16)
    names = list(cfg.names)
    assert batch[0].tolist() == pytest.approx([p.point[n] for n in names])
    spread = np.array([hi - lo for lo, hi in (cfg.bounds[n] for n in names)])
    centre = np.array([p.point[n] for n in names])
    # the other 15 lie around the point (CMA's mean), not around the middle of the box
    assert np.all(np.abs(batch[1:].mean(axis=0) - centre) < 0.15 * spread)
    middle = np.array([sum(cfg.bounds[n]) / 2 for n in names])
    assert np.linalg.norm((batch[1:].mean(axis=0) - centre) / spread) < np.linalg.norm((middle - centre) / spread)
    # narrowed bounds: the point clamped into them; other fitted parameters or a grid: the optimizer's own start
    lo = p.point["k"] + 0.5  # bounds above the point: it is clamped to their lower end
    narrow = {**cfg.bounds, "k": (lo, lo + 1.5)}
    assert p.config(bounds=narrow).start == {**p.point, "k": lo}
    assert p.config(bounds={"k": (1.0, 3.0)}).start is None
    assert p.start_for(cfg.bounds, "Grid") is None
    assert presets.get("bold").config().start is None


def test_regional_preset_options_keep_or_drop_its_start() -> None:
    assert config_from_args(_args("--preset", "regional")).start == dict(presets.get("regional").point)
    assert config_from_args(_args("--preset", "regional", "--param", "k=1:3")).start is None
    lo = presets.get("regional").point["k"] + 1.0  # the same parameters, k's bounds above the point
    cfg = config_from_args(_args("--preset", "regional", "--param", f"k={lo:g}:{lo + 2:g}", "--param",
                                 "ext_E=0.3:1.2", "--param", "ext_E@fcgradient=-1:1", "--param", "ext_E@strength=-1:1"))
    assert cfg.start is not None and cfg.start["k"] == lo
