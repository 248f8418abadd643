"""What a fit minimises, as the user wrote it: a weighted sum of objective terms, parsed and checked without the model.

``ObjectiveSpec.parse`` reads ``"fc"``, ``"fc+fcd_ks"``, ``"fc+0.5*fcd_ks"``, ``"0.7*fc + 0.3*fcd_ks"`` (weights in
any float notation) and checks the terms against ``engine.registry_names`` (no JAX), so ``engine.config`` can check
an objective; ``engine.model.terms.evaluate`` computes it from the simulated signals.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from engine.registry_names import FCD_TERMS, HOST_TERMS, TERM_NEEDS, TERMS


class ObjectiveError(ValueError):
    """An objective that cannot be used; the message is one line meant for the user."""


_NUMBER = r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)"
_TERM_RE = re.compile(rf"\s*(?:(?P<weight>{_NUMBER})\s*\*\s*)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*", re.IGNORECASE)
_FORM = "expected terms like 'fc', 'fc+fcd_ks' or '0.7*fc + 0.3*fcd_ks'"


@dataclass(frozen=True, kw_only=True)
class ObjectiveSpec:
    """A weighted sum of registered terms, ((name, weight), …) in the order given; checked at construction."""

    terms: tuple[tuple[str, float], ...]

    def __post_init__(self) -> None:
        if not self.terms:
            raise ObjectiveError(f"the objective is empty; {_FORM} (terms: {', '.join(TERMS)})")
        seen: set[str] = set()
        for name, weight in self.terms:
            if name not in TERMS:
                raise ObjectiveError(f"unknown objective term {name!r}; known terms: {', '.join(TERMS)}")
            if name in seen:
                raise ObjectiveError(f"objective term {name!r} appears more than once")
            seen.add(name)
        for name, _ in self.terms:
            needs = TERM_NEEDS.get(name, ())
            if needs and not seen & set(needs):
                raise ObjectiveError(f"objective term {name!r} scores only the FC's mean, not its pattern; add "
                                     f"{' or '.join(needs)} (e.g. '{needs[0]}+{name}')")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) \
                    or weight <= 0:
                raise ObjectiveError(f"weight of objective term {name!r} must be a finite number > 0, got {weight!r}")

    @classmethod
    def parse(cls, text: str) -> "ObjectiveSpec":
        """Read 'fc', 'fc+fcd_ks', 'fc+0.5*fcd_ks', '0.7*fc + 0.3*fcd_ks'; ObjectiveError (one line) otherwise."""
        if not isinstance(text, str) or not text.strip():
            raise ObjectiveError(f"the objective is empty; {_FORM} (terms: {', '.join(TERMS)})")
        terms: list[tuple[str, float]] = []
        pos = 0
        while True:
            match = _TERM_RE.match(text, pos)
            if match is None:
                raise ObjectiveError(f"cannot read objective {text.strip()!r} at {text[pos:].strip()[:20]!r}; {_FORM}")
            weight = 1.0 if match["weight"] is None else float(match["weight"])
            terms.append((match["name"], weight))
            pos = match.end()
            if pos == len(text):
                break
            if text[pos] != "+":
                raise ObjectiveError(f"cannot read objective {text.strip()!r} at {text[pos:].strip()[:20]!r}; {_FORM}")
            pos += 1
        return cls(terms=tuple(terms))

    def __str__(self) -> str:
        return "+".join(name if weight == 1 else f"{float(weight)!r}*{name}" for name, weight in self.terms)

    @property
    def names(self) -> tuple[str, ...]:
        """Term names in order."""
        return tuple(name for name, _ in self.terms)

    @property
    def host_terms(self) -> tuple[tuple[str, float], ...]:
        """The (name, weight) of terms added on the host after the device call (``Term.host``)."""
        return tuple((n, w) for n, w in self.terms if n in HOST_TERMS)

    @property
    def needs_fcd(self) -> bool:
        """Whether any term needs the FCD (so the simulation must compute it)."""
        return any(name in FCD_TERMS for name in self.names)
