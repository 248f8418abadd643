"""One frozen configuration object for a fit; a run directory stores and reloads it as JSON."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

from engine import local_sets, registry_names
from engine.data import edges
from engine.data.split import SPLITS
from engine.objective_spec import ObjectiveSpec
from engine.params import CONTROL, REGISTRY, all_names_order, spec_of, split_regional

#: The data source meaning "the HCP dataset shipped inside the package".
BUNDLED = "bundled"

#: Optimizers offered by name in the CLI and the TUI; any other name from Nevergrad's registry works too.
#: (Nevergrad's NGOpt is not offered: with Nevergrad 1.0.12 and NumPy 2.4 its metamodel fails in ask; any name still works.)
OPTIMIZERS: tuple[str, ...] = ("DE", "TwoPointsDE", "CMA", "PSO", "OnePlusOne", "RandomSearch", "Grid")

#: Version of the default random stream (initial history and noise draws), stored in each run directory so
#: that a resume under a version that draws other numbers says so. 1: one history draw and a noise draw per
#: block; 2: history drawn into the ring a few nodes at a time, common noise four blocks per draw.
NOISE_STREAM_VERSION = 2

#: The pseudo-optimizer that scans a regular grid over one or two parameters.
GRID = "Grid"

#: How a simulation starts: "random" as the tutorial (rates 0, delay history uniform in [0, 0.05)), or "steady"
#: (every node and its whole delay history at the node's own fixed point, found by relaxing it from rest).
INITIAL_STATES: tuple[str, ...] = ("random", "steady")

#: The engine counts steps and samples in 32-bit integers (on every device).
MAX_STEPS = 2**31 - 2**20

#: Fewest TR samples that make a BOLD FC worth scoring.
MIN_SAMPLES = 10

#: Most noise realisations per candidate (each one is a lane: the cost grows with it).
MAX_REALIZATIONS = 64


class ConfigError(ValueError):
    """An invalid setting; the message is one line meant for the user."""


def _spec(name: str):  # type: ignore[no-untyped-def]
    """The ParamSpec of a fittable name, or a one-line ConfigError."""
    try:
        return spec_of(name)
    except KeyError as e:
        raise ConfigError(str(e.args[0])) from None


def _known_optimizer(name: str) -> bool:
    if name in OPTIMIZERS:
        return True
    import nevergrad as ng  # deferred: importing nevergrad takes about a second

    return name in ng.optimizers.registry


@dataclass(frozen=True, kw_only=True)
class FitConfig:
    """Everything that defines a fit: data, fitted bounds, fixed values, search and simulation settings."""

    data: str = BUNDLED
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=lambda: {"k": (0.5, 3.0)})
    fixed: Mapping[str, float] = field(default_factory=lambda: {"sigma": 0.05})
    optimizer: str = "DE"
    batch: int = 4
    budget: int = 40
    duration_ms: float = 6000.0
    dt_ms: float = 0.1
    transient_ms: float = 0.0
    seed: int = 0
    common_noise: bool = True
    observe: str = "rE"  # an observation model of engine.model.observe.REGISTRY
    objective: str = "fc"  # objective terms and weights, e.g. "fc+0.5*fcd_ks" (engine.model.terms)
    tr_s: float | None = None  # sampling interval of sampled observations in s; None: the dataset's TR
    fcd_window_s: float = 30.0  # FCD sliding window, s
    fcd_step_s: float = 3.0  # FCD window step, s
    bandpass_hz: tuple[float, float] | None = None  # band-pass simulated and empirical BOLD before FC/FCD
    initial: str = "random"  # see INITIAL_STATES
    preset: str = ""  # the preset these settings started from (informational)
    start: Mapping[str, float] | None = None  # a point the optimizer asks first (Nevergrad's suggest), within bounds
    edges: str = "all"  # the FC edges scored (engine.data.edges): "all" or "within" (hemispheres)
    realizations: int = 1  # noise realisations per candidate, scored on their mean FC (FCD values pooled)
    split: str = ""  # held-out check on the data's own scans (engine.data.split): "" none, "odd-even", "halves"
    test_data: str = ""  # held-out check on another dataset of the same regions ("" none)
    coupling: str = "diffusive"  # a name of engine.model.coupling.REGISTRY
    local_set: str = "1972"  # a name of engine.local_sets.REGISTRY: registry values under the fixed ones
    fic: bool = False  # feedback inhibition control: wIE per region holds rE at fic_target (engine.model.regional)
    maps: Mapping[str, str] = field(default_factory=dict)  # extra maps NAME → FILE (--map), beside the data's own
    fresh_seeds: int = 4  # the fresh-noise verdict after the fit: best and recommendation with this many new seeds
    map_permutation: int = 0  # 0: the maps as they are; p ≥ 1: the maps' values permuted over regions within
    # hemispheres (permutation p, from the seed): the control fit of ``--map-control permute``
    permuted_maps: tuple[str, ...] = ()  # the maps permuted under map_permutation (empty: every map the fit uses)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bounds", {str(k): (float(v[0]), float(v[1])) for k, v in dict(self.bounds).items()})
        object.__setattr__(self, "fixed", {str(k): float(v) for k, v in dict(self.fixed).items()})
        if self.bandpass_hz is not None:
            object.__setattr__(self, "bandpass_hz", (float(self.bandpass_hz[0]), float(self.bandpass_hz[1])))
        if self.tr_s is not None:
            object.__setattr__(self, "tr_s", float(self.tr_s))
        if self.start is not None:
            object.__setattr__(self, "start", {str(k): float(v) for k, v in dict(self.start).items()} or None)
        object.__setattr__(self, "maps", {str(k): str(v) for k, v in dict(self.maps).items()})
        object.__setattr__(self, "permuted_maps", tuple(str(m) for m in self.permuted_maps))
        self._check()

    def _check(self) -> None:
        if not self.bounds:
            raise ConfigError("nothing to fit: give at least one parameter with bounds (e.g. --param k=0.5:3)")
        for name, (lo, hi) in self.bounds.items():
            spec = _spec(name)
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ConfigError(f"bounds of {name} must be finite numbers, got {lo:g}:{hi:g}")
            if not lo < hi:
                raise ConfigError(f"bounds of {name} are inverted or empty: lower {lo:g} must be below upper {hi:g}")
            if not (spec.admits(lo) and spec.admits(hi)):
                raise ConfigError(f"bounds of {name} ({lo:g}:{hi:g}) leave its valid range ({spec.valid_range()})")
        for name, value in self.fixed.items():
            spec = _spec(name)
            if name in self.bounds:
                raise ConfigError(f"{name} is both fitted and fixed; choose one")
            if not spec.admits(value):
                raise ConfigError(f"fixed value of {name} ({value:g}) is outside its valid range ({spec.valid_range()})")
        self._check_model()
        if not _known_optimizer(self.optimizer):
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; try one of: {', '.join(OPTIMIZERS)}")
        if self.optimizer == GRID and len(self.bounds) > 2:
            raise ConfigError("the grid scan maps one or two parameters; fit at most two with --optimizer Grid")
        if not 1 <= self.batch <= 1_000_000:
            raise ConfigError(f"batch must be a positive integer, got {self.batch}")
        if self.budget < 1:
            raise ConfigError(f"budget must be at least 1 evaluation, got {self.budget}")
        if not (math.isfinite(self.dt_ms) and self.dt_ms > 0):
            raise ConfigError(f"dt must be a positive number of ms, got {self.dt_ms:g}")
        if self.dt_ms > 1.0:
            raise ConfigError(f"dt of {self.dt_ms:g} ms is too coarse for time constants of 1 ms; use ≤ 1 ms")
        if not (math.isfinite(self.duration_ms) and self.duration_ms > 0):
            raise ConfigError(f"duration must be a positive number of ms, got {self.duration_ms:g}")
        if not (math.isfinite(self.transient_ms) and self.transient_ms >= 0):
            raise ConfigError(f"transient must be ≥ 0 ms, got {self.transient_ms:g}")
        if self.recorded_steps < 3:
            raise ConfigError(
                f"duration {self.duration_ms:g} ms minus transient {self.transient_ms:g} ms leaves fewer than 3 steps "
                "for FC; lengthen the duration or shorten the transient"
            )
        if self.n_steps > MAX_STEPS:
            raise ConfigError(
                f"duration {self.duration_ms:g} ms at dt {self.dt_ms:g} ms is {self.duration_ms / self.dt_ms:.3g} steps; "
                f"the engine counts steps in 32 bits: at most {MAX_STEPS * self.dt_ms / 3.6e6:.3g} h of simulated time"
            )
        if self.seed < 0:
            raise ConfigError(f"seed must be ≥ 0, got {self.seed}")
        self._check_observation()
        self._check_scoring()

    def _check_scoring(self) -> None:

        if self.edges not in edges.REGISTRY:
            raise ConfigError(f"unknown edge set {self.edges!r}; known: {', '.join(edges.NAMES)}")
        if isinstance(self.realizations, bool) or not isinstance(self.realizations, int) \
                or not 1 <= self.realizations <= MAX_REALIZATIONS:
            raise ConfigError(f"realizations must be a whole number from 1 to {MAX_REALIZATIONS}, "
                              f"got {self.realizations!r}")
        if self.split and self.split not in SPLITS:
            raise ConfigError(f"unknown split {self.split!r}; known: {', '.join(SPLITS)}")
        if self.split and self.test_data:
            raise ConfigError("choose one held-out check: --split (the data's own scans) or --test DATA, not both")
        if isinstance(self.fresh_seeds, bool) or not isinstance(self.fresh_seeds, int) \
                or not 0 <= self.fresh_seeds <= MAX_REALIZATIONS:
            raise ConfigError(f"fresh-noise seeds must be a whole number from 0 (no verdict) to {MAX_REALIZATIONS}, "
                              f"got {self.fresh_seeds!r}")
        if isinstance(self.map_permutation, bool) or not isinstance(self.map_permutation, int) \
                or self.map_permutation < 0:
            raise ConfigError(f"map permutation must be a whole number ≥ 0, got {self.map_permutation!r}")
        if self.map_permutation and not self.regional:
            raise ConfigError("a map control permutes the maps a fit uses; this fit uses none (fit a P@MAP coefficient)")

    def _check_model(self) -> None:
        if self.coupling not in registry_names.COUPLINGS:
            raise ConfigError(f"unknown coupling {self.coupling!r}; known: {', '.join(registry_names.COUPLINGS)}")
        if self.local_set not in local_sets.REGISTRY:
            raise ConfigError(f"unknown local parameter set {self.local_set!r}; known: {', '.join(local_sets.REGISTRY)}")
        if self.fic and "wIE" in set(self.bounds) | set(self.fixed):
            raise ConfigError("with --fic the I→E weight wIE is computed per region; do not fit or fix it")
        if self.fic and any((split_regional(n) or ("",))[0] == "wIE" for n in set(self.bounds) | set(self.fixed)):
            raise ConfigError("with --fic the I→E weight wIE is computed per region; it cannot follow a map too")
        if not self.fic and any((split_regional(n) or (n,))[0] == "fic_target" for n in set(self.bounds) | set(self.fixed)):
            raise ConfigError("fic_target is the rate feedback inhibition control holds; it needs --fic")
        for name in self.maps:
            if not name or any(c in name for c in "@:= ") :
                raise ConfigError(f"--map NAME=FILE: {name!r} is not a usable map name (no @ : = or spaces)")

    def _check_observation(self) -> None:
        if self.observe not in registry_names.OBSERVATIONS:
            raise ConfigError(f"unknown observation {self.observe!r}; known: {', '.join(registry_names.OBSERVATIONS)}")
        sampled = self.observe in registry_names.SAMPLED_OBSERVATIONS
        try:
            spec = ObjectiveSpec.parse(self.objective)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        if "fic" in spec.names and not self.fic:
            raise ConfigError("objective term 'fic' penalises regions feedback inhibition control cannot hold; "
                              "it needs --fic")
        if spec.needs_fcd and not sampled:
            raise ConfigError(f"objective {self.objective!r} compares FCD of signals sampled every TR; "
                              f"observation {self.observe!r} is not sampled — use --observe bold")
        if self.start:
            if set(self.start) != set(self.bounds):
                raise ConfigError(f"a start point gives every fitted parameter ({', '.join(self.names)}), "
                                  f"got {', '.join(sorted(self.start))}")
            for name, v in self.start.items():
                lo, hi = self.bounds[name]
                if not lo <= v <= hi:
                    raise ConfigError(f"start value of {name} ({v:g}) lies outside its bounds [{lo:g}, {hi:g}]")
            if self.optimizer == GRID:
                raise ConfigError("a grid scan visits fixed points; a start point needs an optimizer such as DE or CMA")
        if self.initial not in INITIAL_STATES:
            raise ConfigError(f"unknown initial state {self.initial!r}; known: {', '.join(INITIAL_STATES)}")
        if self.tr_s is not None and not (math.isfinite(self.tr_s) and 0 < self.tr_s <= 100):
            raise ConfigError(f"TR must be a positive number of seconds (e.g. 0.72), got {self.tr_s:g}")
        for name, value in (("FCD window", self.fcd_window_s), ("FCD step", self.fcd_step_s)):
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive number of seconds, got {value:g}")
        if self.bandpass_hz is not None:
            lo, hi = self.bandpass_hz
            if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
                raise ConfigError(f"band-pass must be LOW:HIGH in Hz with 0 < LOW < HIGH, got {lo:g}:{hi:g}")
            if not sampled:
                raise ConfigError(f"a band-pass filter applies to sampled signals; observation {self.observe!r} "
                                  "is not sampled — use --observe bold")

    @property
    def objective_spec(self) -> ObjectiveSpec:
        """The parsed objective (terms and weights)."""
        return ObjectiveSpec.parse(self.objective)

    @property
    def names(self) -> tuple[str, ...]:
        """The fitted parameter names: registry order, then control parameters, then regional coefficients."""
        return all_names_order(tuple(self.bounds))

    @property
    def regional(self) -> bool:
        """Whether any parameter follows a map (a ``P@MAP`` coefficient is fitted or fixed)."""
        return any(split_regional(n) for n in (*self.bounds, *self.fixed))

    @property
    def n_steps(self) -> int:
        """Simulated steps, as the seed counts them: floor(duration / dt), e.g. 59,999 for 6 s at 0.1 ms."""
        # The seed computes `6e3 * u.ms // dt`, which floors 6000/0.1 in floating point to 59,999: kept for raw rE
        # (the tutorial's numbers); a sampled observation rounds instead, so 200 s at TR 0.72 s ends on a whole sample.
        if self.observe in registry_names.SAMPLED_OBSERVATIONS:
            return int(round(self.duration_ms / self.dt_ms))
        return int(self.duration_ms // self.dt_ms)

    @property
    def transient_steps(self) -> int:
        """Steps discarded before FC is accumulated."""
        return int(round(self.transient_ms / self.dt_ms))

    @property
    def recorded_steps(self) -> int:
        """Steps that enter the FC."""
        return self.n_steps - self.transient_steps

    @property
    def simulated_seconds(self) -> float:
        """Seconds of model time per candidate."""
        return self.n_steps * self.dt_ms / 1000.0

    def values(self, fitted: Mapping[str, float] | None = None) -> dict[str, float]:
        """Every parameter's value: defaults, overridden by fixed values, then by ``fitted``."""
        out = {n: s.default for n, s in REGISTRY.items()}
        out.update(local_sets.REGISTRY[self.local_set].values if self.local_set in local_sets.REGISTRY else {})
        if self.fic:
            out.update({n: s.default for n, s in CONTROL.items()})
        out.update(self.fixed)
        out.update({n: spec_of(n).default for n in self.bounds if n not in out})  # fitted coefficients and controls
        if fitted:
            out.update({k: float(v) for k, v in fitted.items()})
        return out

    def replace(self, **changes: Any) -> "FitConfig":
        """A copy with some fields changed (checked again)."""
        d = self.to_dict()
        d.update(changes)
        return FitConfig.from_dict(d)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        d = asdict(self)
        d["bounds"] = {k: [lo, hi] for k, (lo, hi) in self.bounds.items()}
        d["bandpass_hz"] = None if self.bandpass_hz is None else list(self.bandpass_hz)
        d["permuted_maps"] = list(self.permuted_maps)
        return d

    def to_json(self) -> str:
        """The configuration as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "FitConfig":
        """Build (and check) a configuration from a dict made by ``to_dict``; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        kw = dict(d)
        if "bounds" in kw:
            kw["bounds"] = {k: (v[0], v[1]) for k, v in dict(kw["bounds"]).items()}
        return cls(**kw)

    @classmethod
    def from_json(cls, text: str) -> "FitConfig":
        """Parse a configuration written by ``to_json``."""
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"configuration is not valid JSON: {e}") from None
        return cls.from_dict(d)


def parse_bound(text: str) -> tuple[str, tuple[float, float]]:
    """Parse ``NAME=LO:HI`` into a name and a bound pair."""
    name, sep, rest = text.partition("=")
    lo, sep2, hi = rest.partition(":")
    if not (sep and sep2 and name.strip()):
        raise ConfigError(f"--param expects NAME=LO:HI (e.g. k=0.5:3), got {text!r}")
    try:
        return name.strip(), (float(lo), float(hi))
    except ValueError:
        raise ConfigError(f"--param {text!r}: bounds must be numbers") from None


def parse_fixed(text: str) -> tuple[str, float]:
    """Parse ``NAME=VALUE`` into a name and a value."""
    name, sep, value = text.partition("=")
    if not (sep and name.strip()):
        raise ConfigError(f"--fixed expects NAME=VALUE (e.g. sigma=0.05), got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise ConfigError(f"--fixed {text!r}: value must be a number") from None


def parse_band(text: str, what: str = "--bandpass") -> tuple[float, float] | None:
    """Parse ``LOW:HIGH`` in Hz into a band, or None for blank or ``off`` (ConfigError naming ``what``)."""
    t = text.strip()
    if not t or t.lower() == "off":
        return None
    lo, sep, hi = t.partition(":")
    try:
        if not sep:
            raise ValueError
        return float(lo), float(hi)
    except ValueError:
        raise ConfigError(f"{what} expects LOW:HIGH in Hz (e.g. 0.01:0.1) or nothing for off, got {t!r}") from None
