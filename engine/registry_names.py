"""The names the model's registries offer, and the traits configuration checks need, without the model (no JAX).

``engine.config`` checks a configuration's observation, objective terms and coupling against these, so it never
imports ``engine.model`` (which reads the configuration). Each registry in ``engine.model`` asserts when it loads
that its entries match these (``tests/test_registries.py`` checks it too): a new observation, term or coupling is
its entry in the model's registry and its name here.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

#: Observation models (``engine.model.observe.REGISTRY``), in display order.
OBSERVATIONS: tuple[str, ...] = ("rE", "bold")

#: The observations sampled every TR (an FCD term and a band-pass filter need one).
SAMPLED_OBSERVATIONS: tuple[str, ...] = ("bold",)

#: Couplings (``engine.model.coupling.REGISTRY``), the default first.
COUPLINGS: tuple[str, ...] = ("diffusive", "additive")

#: Objective terms (``engine.model.terms.REGISTRY``), in display order.
TERMS: tuple[str, ...] = ("fc", "fc_rmse", "fcd_ks", "fc_level", "fic")

#: The terms that need the FCD (the simulation must compute it).
FCD_TERMS: tuple[str, ...] = ("fcd_ks",)

#: The terms computed on the host from what the parameters imply (the device call gives 0).
HOST_TERMS: tuple[str, ...] = ("fic",)

#: A term → the terms one of which an objective with it must have too.
TERM_NEEDS: Mapping[str, tuple[str, ...]] = MappingProxyType({"fc_level": ("fc", "fc_rmse")})
