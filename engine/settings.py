"""The one translator from a user's settings to a ``FitConfig``: the command line's options and the app's form both
hand it a plain mapping.

A setting left out (or None) takes the preset's value (``preset``, default ``bold``); a FitConfig field given
replaces it. Besides FitConfig's fields the mapping may hold what a person types:

- ``param``: ``NAME=LO:HI`` texts; they replace the preset's fitted parameters;
- ``fix``: ``NAME=VALUE`` texts, added to the fixed values (a parameter fitted loses the preset's default fixed
  value, unless it is fixed here too);
- ``bandpass``: ``LOW:HIGH`` in Hz (or ``off``); ``own_noise``: true gives each candidate its own noise;
- ``map``: ``NAME=FILE`` texts, brain maps added to the preset's;
- ``start_at``: ``NAME=VALUE`` texts, the point the search asks first (fitted parameters not named take the preset's
  point, clamped into their bounds, or the middle of their bounds).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Iterable, Mapping

from engine import presets
from engine.config import ConfigError, FitConfig, parse_band, parse_bound, parse_fixed

#: The settings that are not FitConfig fields (texts as a person types them).
TEXT_SETTINGS = ("preset", "param", "fix", "bandpass", "own_noise", "map", "start_at")


def parse_map(text: str) -> tuple[str, str]:
    """``NAME=FILE`` → (name, file) (ConfigError, one line)."""
    name, sep, file = text.partition("=")
    if not (sep and name.strip() and file.strip()):
        raise ConfigError(f"--map expects NAME=FILE (e.g. myelin=maps/myelin.txt), got {text!r}")
    return name.strip(), file.strip()


def _fixed(base: Mapping[str, float], texts: Iterable[str], bounds: Iterable[str], defaults: bool) -> dict[str, float]:
    """``base`` plus the ``NAME=VALUE`` texts; with ``defaults`` (the preset's) a fitted parameter drops its value."""
    given = dict(parse_fixed(t) for t in texts)
    fixed = dict(base)
    if defaults:
        for name in bounds:
            if name not in given:
                fixed.pop(name, None)  # fitting a parameter overrides its default fixed value
    fixed.update(given)
    return fixed


def config_from_settings(settings: Mapping[str, Any]) -> FitConfig:
    """The FitConfig that ``settings`` describe: the preset's, overridden by the settings given (ConfigError)."""
    given = {k: v for k, v in settings.items() if v is not None}
    known = {f.name for f in fields(FitConfig)}
    unknown = sorted(set(given) - known - set(TEXT_SETTINGS))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    preset = presets.get(given.get("preset") or presets.DEFAULT)
    out: dict[str, Any] = {k: v for k, v in preset.settings.items() if k != "preset"}
    out.update({k: v for k, v in given.items() if k in known and k != "preset"})
    if given.get("param"):
        out["bounds"] = dict(parse_bound(t) for t in given["param"])
    out["fixed"] = _fixed(out.get("fixed", {}), given.get("fix") or (), out.get("bounds", {}),
                          defaults="fixed" not in given)
    if given.get("bandpass"):
        out["bandpass_hz"] = parse_band(given["bandpass"])
    if given.get("own_noise"):
        out["common_noise"] = False
    if given.get("map"):
        out["maps"] = {**dict(out.get("maps", {})), **dict(parse_map(t) for t in given["map"])}
    if given.get("start_at"):
        out["start"] = _start(preset, given["start_at"], out.get("bounds", {}))
    return preset.config(**out)


def _start(preset: presets.Preset, texts: Iterable[str], bounds: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    """The search's first point: the ``NAME=VALUE`` texts, the rest of the fitted parameters as the preset starts them."""
    given = dict(parse_fixed(t) for t in texts)
    stray = sorted(set(given) - set(bounds))
    if stray:
        raise ConfigError(f"--start {', '.join(stray)}: not fitted (fitted: {', '.join(bounds) or 'none'}); a start "
                          "point names fitted parameters only")
    base = presets.point_within(preset.name, bounds, bounds)
    clamped = {n: min(max(v, float(bounds[n][0])), float(bounds[n][1])) for n, v in base.items()}
    return {**clamped, **given}
