"""FitConfig and the parameter registry: validation messages, JSON round trip, step counts."""

import json

import pytest

from engine.config import ConfigError, FitConfig, parse_bound, parse_fixed
from engine.params import REGISTRY, registry_help


def test_defaults_reproduce_the_seed_example():
    c = FitConfig()
    assert c.bounds == {"k": (0.5, 3.0)} and c.fixed == {"sigma": 0.05}
    assert (c.optimizer, c.batch, c.budget, c.duration_ms, c.dt_ms, c.transient_ms) == ("DE", 4, 40, 6000.0, 0.1, 0.0)
    # the seed simulates `6e3 * u.ms // dt` steps, which floors to 59,999 in floating point
    assert c.n_steps == int(6000.0 // 0.1) == 59_999
    assert c.common_noise is True


@pytest.mark.parametrize("kw, phrase", [
    (dict(bounds={"k": (3.0, 0.5)}), "inverted"),
    (dict(bounds={"k": (1.0, 1.0)}), "inverted or empty"),
    (dict(bounds={"nope": (0, 1)}), "unknown parameter 'nope'"),
    (dict(bounds={"k": (-1.0, 2.0)}), "valid range"),
    (dict(bounds={"signal_speed": (0.0, 2.0)}), "valid range"),
    (dict(bounds={"k": (0.0, float("inf"))}), "finite"),
    (dict(bounds={}), "nothing to fit"),
    (dict(fixed={"k": 1.0}), "both fitted and fixed"),
    (dict(fixed={"sigma": -0.1}), "valid range"),
    (dict(optimizer="NoSuchOptimizer"), "unknown optimizer"),
    (dict(batch=0), "batch"),
    (dict(budget=0), "budget"),
    (dict(dt_ms=0.0), "dt"),
    (dict(dt_ms=5.0), "too coarse"),
    (dict(duration_ms=-1.0), "duration"),
    (dict(duration_ms=10.0, transient_ms=10.0), "fewer than 3 steps"),
    (dict(optimizer="Grid", bounds={"k": (0.5, 3), "sigma": (0, 0.1), "wEE": (5, 20)}, fixed={}), "one or two"),
])
def test_invalid_settings_give_one_clear_line(kw, phrase):
    with pytest.raises(ConfigError) as e:
        FitConfig(**kw)
    msg = str(e.value)
    assert phrase in msg and "\n" not in msg


def test_any_nevergrad_optimizer_name_is_accepted():
    assert FitConfig(optimizer="TBPSA").optimizer == "TBPSA"


def test_json_round_trip_is_exact():
    c = FitConfig(bounds={"k": (0.5, 6.0), "signal_speed": (1.0, 10.0)}, fixed={"sigma": 0.03, "wEE": 11.0},
                  optimizer="CMA", batch=16, budget=100, duration_ms=3000, transient_ms=500, seed=7, common_noise=False)
    again = FitConfig.from_json(c.to_json())
    assert again == c
    assert json.loads(c.to_json())["bounds"]["k"] == [0.5, 6.0]
    with pytest.raises(ConfigError, match="unknown configuration keys"):
        FitConfig.from_dict({**c.to_dict(), "colour": "red"})
    with pytest.raises(ConfigError, match="not valid JSON"):
        FitConfig.from_json("{")


def test_values_layer_defaults_fixed_and_fitted():
    c = FitConfig(fixed={"sigma": 0.02, "wEE": 10.0})
    v = c.values({"k": 2.5})
    assert v["k"] == 2.5 and v["sigma"] == 0.02 and v["wEE"] == 10.0
    assert v["theta_E"] == REGISTRY["theta_E"].default


def test_transient_and_recorded_steps():
    c = FitConfig(duration_ms=1000, transient_ms=200)
    assert c.transient_steps == 2000 and c.recorded_steps == c.n_steps - 2000


def test_parse_helpers():
    assert parse_bound("k=0.5:3") == ("k", (0.5, 3.0))
    assert parse_fixed("sigma=0.1") == ("sigma", 0.1)
    for bad in ("k", "k=1", "k=a:b", "=1:2"):
        with pytest.raises(ConfigError):
            parse_bound(bad)
    with pytest.raises(ConfigError):
        parse_fixed("sigma")


def test_registry_is_complete_and_documented():
    for name in ("k", "sigma", "signal_speed", "wEE", "theta_E", "tau_E", "ext_E"):
        spec = REGISTRY[name]
        assert spec.description and spec.lower < spec.upper and spec.admits(spec.default)
    text = registry_help()
    assert all(name in text for name in REGISTRY)
    with pytest.raises(TypeError):
        REGISTRY["k"] = None  # read-only
