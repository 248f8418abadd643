"""Checkpoint safety: the verified, restricted loading of a run's pickled optimizer (see ``engine.runs``)."""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import pickle
import stat
from pathlib import Path
from typing import Any

import numpy as np

from engine.proposers import Proposer
from engine.runs.layout import FORMAT, MANIFEST, RunError, check_marker, read_json

# the restricted unpickler
#
# A pickle names globals as (module, name) and can then call any callable it holds (REDUCE, NEWOBJ), including an
# instance it built, so every global is checked for what it is, not only where it was found: a name is one plain
# identifier (protocol 4 resolves dotted names attribute by attribute), and what it resolves to must be a listed
# object, or a Nevergrad optimizer, parametrization or transform class defined in that very module. Nevergrad's other
# classes are refused unless listed (``CommandFunction`` runs a shell command when called, ``DelayedJob`` calls what it
# holds), and so is everything from elsewhere that a module merely imports.

_NUMPY_STD_GLOBALS = frozenset({
    ("numpy", "dtype"), ("numpy", "ndarray"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"), ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__randomstate_ctor"), ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random.mtrand", "RandomState"), ("numpy.random._mt19937", "MT19937"),
    ("numpy.random._pcg64", "PCG64"), ("numpy.random._generator", "Generator"), ("numpy.linalg", "eigh"),
    ("collections", "OrderedDict"), ("collections", "deque"), ("collections", "defaultdict"),
    ("copyreg", "_reconstructor"), ("builtins", "object"), ("builtins", "set"), ("builtins", "frozenset"),
    ("builtins", "slice"), ("builtins", "complex"), ("builtins", "range"), ("builtins", "bytearray"),
})
#: Nevergrad's and CMA's helper classes and functions an optimizer checkpoint holds (measured on every offered one).
_OPTIMIZER_GLOBALS = frozenset({
    ("engine.proposers", "NevergradProposer"), ("engine.proposers", "GridProposer"),
    ("nevergrad.common.tools", "OrderedSet"),
    ("nevergrad.optimization.utils", "Archive"), ("nevergrad.optimization.utils", "ConstraintManager"),
    ("nevergrad.optimization.utils", "MultiValue"), ("nevergrad.optimization.utils", "Pruning"),
    ("nevergrad.optimization.utils", "UidQueue"),
    ("nevergrad.parametrization.core", "default_congruence"), ("nevergrad.parametrization.utils", "BoundChecker"),
    ("nevergrad.parametrization.utils", "FunctionInfo"), ("nevergrad.parametrization.utils", "Subobjects"),
    ("cma.boundary_handler", "BoundNone"), ("cma.boundary_handler", "BoundTransform"),
    ("cma.boundary_handler", "BoundPenalty"), ("cma.evolution_strategy", "CMAEvolutionStrategy"),
    ("cma.evolution_strategy", "_CMASolutionDict_functional"), ("cma.evolution_strategy", "_CMAStopDict"),
    ("cma.evolution_strategy", "_StopTolXStagnation"), ("cma.evolution_strategy", "_pass"),
    ("cma.logger", "CMADataLogger"), ("cma.optimization_tools", "BestSolution"),
    ("cma.options_parameters", "CMAOptions"), ("cma.options_parameters", "CMAParameters"),
    ("cma.options_parameters", "is_feasible"), ("cma.recombination_weights", "RecombinationWeights"),
    ("cma.sampler", "GaussStandardConstant"), ("cma.sampler", "GaussFullSampler"),
    ("cma.sampler", "GaussDiagonalSampler"), ("cma.sigma_adaptation", "CMAAdaptSigmaCSA"),
    ("cma.transformations", "DiagonalDecoding"), ("cma.transformations", "GenoPheno"),
    ("cma.transformations", "RoundIntegerVariables"), ("cma.utilities.utils", "BlancClass"),
    ("cma.utilities.utils", "DictFromTagsInString"), ("cma.utilities.utils", "ElapsedWCTime"),
    ("cma.utilities.utils", "MoreToWrite"), ("cma.utilities.utils", "SolutionDict"),
})
_ALLOWED_GLOBALS = _NUMPY_STD_GLOBALS | _OPTIMIZER_GLOBALS
#: Where a class a checkpoint names lives now (runs checkpointed before the proposers left ``engine.search``).
_MOVED = {("engine.search", "NevergradProposer"): ("engine.proposers", "NevergradProposer"),
          ("engine.search", "GridProposer"): ("engine.proposers", "GridProposer")}
#: Modules whose optimizer, parametrization and transform classes (any of Nevergrad's registry) may be resolved.
_NEVERGRAD_PREFIXES = ("nevergrad.optimization.", "nevergrad.parametrization.")
#: Methods a pickle may take from a NumPy random state with ``getattr`` (CMA keeps ``RandomState.randn``).
_RANDOM_METHODS = frozenset({"randn", "rand", "standard_normal", "normal", "uniform", "random_sample", "random"})


class _NotAllowed(Exception):
    pass


def _nevergrad_bases() -> tuple[type, ...]:
    from nevergrad.optimization.base import ConfiguredOptimizer, Optimizer
    from nevergrad.parametrization._layering import Layered
    from nevergrad.parametrization.core import Parameter
    from nevergrad.parametrization.transforms import Transform

    return Optimizer, ConfiguredOptimizer, Parameter, Layered, Transform


def _random_method(obj: Any, name: Any) -> Any:
    """The pickle's ``getattr``: only a sampling method of a NumPy random state (nothing else can be reached)."""
    if type(obj) is not np.random.RandomState or not isinstance(name, str) or name not in _RANDOM_METHODS:
        raise _NotAllowed(f"getattr({type(obj).__name__}, {name!r})")
    return getattr(obj, name)


def _resolve(module: str, name: str) -> Any:
    """The object a checkpoint may name as ``module.name``; raises _NotAllowed for anything else."""
    if not (isinstance(module, str) and isinstance(name, str) and name.isidentifier()
            and all(part.isidentifier() for part in module.split("."))):
        raise _NotAllowed(f"{module}.{name}")  # a dotted (or odd) name would be resolved attribute by attribute
    if (module, name) == ("builtins", "getattr"):
        return _random_method
    module, name = _MOVED.get((module, name), (module, name))
    listed = (module, name) in _ALLOWED_GLOBALS
    if not listed and not module.startswith(_NEVERGRAD_PREFIXES):
        raise _NotAllowed(f"{module}.{name}")
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise _NotAllowed(f"{module}.{name} (not found)") from None
    if listed:
        if not (isinstance(obj, type) or callable(obj)):
            raise _NotAllowed(f"{module}.{name}")
        return obj
    # an unlisted Nevergrad global: a class defined right there that is an optimizer, parameter, layer or transform
    if not (isinstance(obj, type) and obj.__module__ == module and issubclass(obj, _nevergrad_bases())):
        raise _NotAllowed(f"{module}.{name}")
    return obj


class _CheckpointUnpickler(pickle.Unpickler):
    """Resolves only the classes and functions an optimizer checkpoint is made of."""

    def find_class(self, module: str, name: str) -> Any:
        """Resolve an allowed global, refuse any other (also those reached through copyreg's extension codes)."""
        return _resolve(module, name)


def load_checkpoint(path: str | Path) -> tuple[Proposer | None, dict[str, Any] | None, str | None]:
    """The verified checkpoint of a run: (proposer or None, manifest or None, note explaining a None proposer)."""
    run = Path(path)
    check_marker(run)
    manifest = read_json(run / MANIFEST)
    if manifest is None:
        return None, None, None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunError(f"refusing the checkpoint of {run}: {MANIFEST} is not a checkpoint manifest")
    for key in ("evaluations", "batches"):
        if not isinstance(manifest.get(key), int) or manifest[key] < 0:
            raise RunError(f"refusing the checkpoint of {run}: {MANIFEST} has no valid {key!r}")
    name = manifest.get("file")
    if not name:
        return None, manifest, "the optimizer could not be checkpointed"
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith(".") \
            or not (name.startswith("checkpoint-") and name.endswith(".pkl")):
        raise RunError(f"refusing the checkpoint of {run}: the manifest names an unexpected file {name!r}")
    file = run / name
    try:
        st = os.lstat(file)
    except FileNotFoundError:
        raise RunError(f"refusing the checkpoint of {run}: {name} is missing") from None
    if not stat.S_ISREG(st.st_mode):
        raise RunError(f"refusing the checkpoint of {run}: {name} is not a regular file")
    try:
        blob = file.read_bytes()
    except OSError as e:
        raise RunError(f"cannot read {file}: {e.strerror or e}") from None
    digest = hashlib.sha256(blob).hexdigest()
    if len(blob) != manifest.get("size") or digest != manifest.get("sha256"):
        raise RunError(f"refusing the checkpoint of {run}: {name} does not match the SHA-256 in {MANIFEST} "
                       "(modified or corrupt); it was not loaded")
    try:
        proposer = _CheckpointUnpickler(io.BytesIO(blob)).load()
    except _NotAllowed as e:
        return None, manifest, f"the checkpoint names {e}, which is not loaded"
    except Exception as e:  # noqa: BLE001 - e.g. written by another nevergrad version
        return None, manifest, f"the checkpoint could not be read ({type(e).__name__})"
    if not all(callable(getattr(proposer, m, None)) for m in ("ask", "tell", "recommend")):
        return None, manifest, "the checkpoint does not hold an optimizer"
    return proposer, manifest, None
