"""Shared fixtures: the bundled HCP dataset and a small generated dataset.

Tests run with x64 on and strict dtype promotion, as equinox's and diffrax's do: the engine states every
dtype (float32 by default), so an implicit promotion or a stray float64 default fails here instead of
silently changing precision or speed.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _suite_root() -> Path:
    """One temporary folder for the whole run (its subprocesses and xdist workers inherit it through the environment).

    It holds the suite's HOME (nothing a test or a library writes to ~ lands in the user's home) and one JAX
    compilation cache shared by every test and every subprocess: a program compiled once is loaded, not recompiled,
    by the next test or child process with the same shapes (min compile time 0, as engine.devices sets it).
    """
    given = os.environ.get("WCFIT_TEST_ROOT")
    if given:
        return Path(given)
    root = Path(tempfile.mkdtemp(prefix="wcfit-tests-"))
    os.environ["WCFIT_TEST_ROOT"] = str(root)
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    (root / "home").mkdir()
    os.environ.update(HOME=str(root / "home"), XDG_CACHE_HOME=str(root / "home" / ".cache"),
                      WCFIT_CACHE_DIR=str(root / "jax-cache"), RAY_AUTH_MODE="disabled")
    os.environ.pop("WCFIT_NO_CACHE", None)
    # on a GPU box the xdist workers and the subprocesses share the GPU: each takes memory as it needs it, instead
    # of the first process to start JAX taking 75 % of it and the next one failing to allocate
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    return root


SUITE_ROOT = _suite_root()

# The suite compiles at XLA's LLVM optimisation level 1 instead of its default 3 (set before JAX starts, so every
# worker and subprocess inherits it). The suite is bound by compiling: most tests compile a small program once and run
# it for milliseconds, and level 1 halves a small objective's compile (2.7 → 1.3 s) with the same run time at the
# presets' size (bench --presets, alternated: bold 86/95 against 92/86, regional 82/86 against 81/90); level 0 would
# make the long simulations several times slower. What it changes is float rounding: the bold preset's losses are bit
# for bit the default's, the regional preset's move like another noise realisation (its FIC'd dynamics amplify one
# ulp), which the tests' tolerances already allow for (as on a GPU box). The product keeps XLA's default; a run with
# WCFIT_TEST_XLA_DEFAULT=1 (or XLA_FLAGS naming a level) tests at the product's own level.
from tests.support import xla_opt_level  # noqa: E402 - no JAX there: the flag is set before JAX is imported below

if xla_opt_level() is None and not os.environ.get("WCFIT_TEST_XLA_DEFAULT"):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=1".strip()

try:  # its import sets JAX's x64 flag from its own precision (32): import it first, before the flags are set below
    import brainstate  # noqa: F401
except ImportError:  # a GPU box's own image (scripts/gpu_check.sh) runs the gpu tests, which need no brainstate
    pass
import jax
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")

from engine.data.dataset import Dataset, load_dataset
from engine.devices import enable_compilation_cache
from tests.support import make_small_dataset

enable_compilation_cache()  # the suite's shared cache (WCFIT_CACHE_DIR above), on from the first test: order-free


# -- the backend the suite runs on ---------------------------------------------------------------------------------
# In-process tests run on whatever JAX finds (JAX_PLATFORMS decides, as for a user): on a CUDA box the engine's GPU
# path, elsewhere the CPU. Subprocesses inherit the same environment and so the same backend; the few that must run
# on the CPU whatever the machine (a layout of host devices, a CPU-only figure) are pinned by ``cpu_env`` and say why.
# Tests that compare numbers across the two use each one's own backend or tolerances (float32 rounding differs).


def suite_backend() -> str:
    """JAX's default backend in this process ('cpu', 'gpu', …): where in-process tests and plain subprocesses run."""
    return jax.default_backend()


def has_gpu() -> bool:
    """Whether JAX here sees a GPU (CUDA or ROCm): the ``gpu``-marked tests run only then."""
    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:  # no GPU backend in this jaxlib, or none initialised
        return False


def cpu_env(**extra: str) -> dict[str, str]:
    """The suite's environment for a subprocess pinned to the CPU (JAX_PLATFORMS=cpu) whatever the machine."""
    return {**os.environ, "JAX_PLATFORMS": "cpu", **extra}


def backend_line() -> str:
    """One line: the backend and devices the in-process tests ran on, and whether the gpu-marked tests ran."""
    devs = jax.devices()
    kinds = sorted({d.device_kind for d in devs})
    gpu = "gpu-marked tests run" if has_gpu() else "gpu-marked tests skipped (no GPU seen by JAX)"
    platforms = os.environ.get("JAX_PLATFORMS") or "unset"
    level = xla_opt_level() or "3 (XLA's default)"
    return (f"wcfit backend: {suite_backend()} ({len(devs)}× {'/'.join(kinds)}), JAX {jax.__version__}, "
            f"JAX_PLATFORMS {platforms}; XLA optimisation level {level}; {gpu}")


def pytest_xdist_auto_num_workers(config) -> int:  # noqa: ANN001 - pytest's config
    """Workers for ``-n auto`` (README's test command): one per core, at least three — on two cores a third pays,
    as much of the suite waits rather than computes (subprocesses starting, Ray, Chromium, app frames) — and at most
    sixteen (each worker is a JAX process of ≈1–2 GB). PYTEST_XDIST_AUTO_NUM_WORKERS overrides it, as in xdist."""
    given = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if given and given.isdigit() and int(given) > 0:
        return int(given)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(3, min(cores, 16))


def pytest_report_header(config) -> list[str]:  # noqa: ANN001 - pytest's config
    """Say which backend and devices the in-process tests run on (and the subprocesses that are not pinned)."""
    return [backend_line()]


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ANN001 - pytest's hook arguments
    """Skip ``gpu``-marked tests, with the reason, where JAX sees no GPU."""
    if has_gpu():
        return
    skip = pytest.mark.skip(reason=f"needs a GPU: JAX's backend here is {suite_backend()} "
                                   f"({', '.join(sorted({d.device_kind for d in jax.devices()}))})")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's reporter
    """Say what the suite wrote to its stand-in HOME: anything there would have landed in the user's home."""
    home = SUITE_ROOT / "home"
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file()) if home.is_dir() else []
    if written and not os.environ.get("PYTEST_XDIST_WORKER"):
        terminalreporter.write_line(f"written to HOME ({len(written)} files): " + ", ".join(written[:20]))
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # also under -q, which leaves the header out
        terminalreporter.write_line(backend_line())


@pytest.fixture(scope="session")
def bundled() -> Dataset:
    """The bundled 80-node HCP dataset."""
    return load_dataset()


@pytest.fixture(scope="session")
def small() -> Dataset:
    """A generated 12-node dataset."""
    return make_small_dataset()


@pytest.fixture(autouse=True)
def _x64_and_strict_promotion() -> Iterator[None]:
    """Every test starts, and must end, with x64 on and strict promotion (nothing may switch them off)."""
    assert jax.config.jax_enable_x64 and jax.config.jax_numpy_dtype_promotion == "strict"
    yield
    assert jax.config.jax_enable_x64 and jax.config.jax_numpy_dtype_promotion == "strict", "a test switched x64 off"


@pytest.fixture(autouse=True)
def _process_environment_restored() -> Iterator[None]:
    """Each test leaves the JAX device flags of the process's environment as it found them: an in-process ``main()``
    adds the CPU device count to XLA_FLAGS for a JAX not yet started, and a later test's subprocess (``bench``) would
    inherit it, so a test's outcome would depend on which tests ran before it (found by a random-order run)."""
    saved = {k: os.environ.get(k) for k in ("XLA_FLAGS", "WCFIT_CPU_DEVICES", "JAX_PLATFORMS")}
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
