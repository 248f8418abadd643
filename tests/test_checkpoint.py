"""The checkpoint unpickler: hand-made hostile pickles are refused before they run anything; real checkpoints load.

Each hostile pickle would create a directory (the sentinel) if anything it names were resolved and called.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import json
import pickle
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import runs  # noqa: E402
from engine.runs.checkpoint import _CheckpointUnpickler, _NotAllowed  # noqa: E402
from engine.config import OPTIMIZERS, FitConfig  # noqa: E402
from engine.search import stop_helper_threads  # noqa: E402
from engine.proposers import make_proposer  # noqa: E402

# ---------------------------------------------------------------------------
# pickle assembly by opcode (see pickletools): nothing here goes through pickle.dumps' own checks

PROTO4 = pickle.PROTO + b"\x04"
PROTO2 = pickle.PROTO + b"\x02"


def text(s: str) -> bytes:
    """SHORT_BINUNICODE / BINUNICODE of ``s``."""
    b = s.encode()
    if len(b) < 256:
        return pickle.SHORT_BINUNICODE + bytes([len(b)]) + b
    return pickle.BINUNICODE + struct.pack("<I", len(b)) + b


def stack_global(module: str, name: str) -> bytes:
    """Protocol 4's STACK_GLOBAL: module and name from the stack (dotted names are walked by the default unpickler)."""
    return text(module) + text(name) + pickle.STACK_GLOBAL


def global_(module: str, name: str) -> bytes:
    """The text GLOBAL opcode."""
    return pickle.GLOBAL + module.encode() + b"\n" + name.encode() + b"\n"


def call(fn: bytes, *args: bytes) -> bytes:
    """fn(*args) with REDUCE."""
    return fn + pickle.MARK + b"".join(args) + pickle.TUPLE + pickle.REDUCE


def load(blob: bytes) -> Any:
    return _CheckpointUnpickler(io.BytesIO(blob)).load()


def plain_load(blob: bytes) -> Any:
    return pickle.Unpickler(io.BytesIO(blob)).load()


# ---------------------------------------------------------------------------
# ways in


def hostile_pickles(target: Path) -> dict[str, bytes]:
    """Pickles that each try to run ``os.mkdir(target)`` (or as much of it as one trick allows)."""
    t = text(str(target))
    return {
        # the reported bypass: an allowed module prefix, a dotted name resolved attribute by attribute
        "stack_global_dotted": PROTO4 + call(stack_global("nevergrad.common.testing", "os.mkdir"), t) + pickle.STOP,
        "global_dotted": PROTO4 + call(global_("nevergrad.common.testing", "os.mkdir"), t) + pickle.STOP,
        "dotted_from_listed_class": PROTO4 + call(stack_global("engine.search", "GridProposer.__init__.__globals__"))
        + pickle.STOP,
        # something a listed module merely imports (the os module, a function from elsewhere)
        "imported_module": PROTO4 + call(stack_global("nevergrad.optimization.base", "os")) + pickle.STOP,
        "plain_os": PROTO4 + call(stack_global("os", "mkdir"), t) + pickle.STOP,
        "posix_via_compat_name": PROTO2 + call(global_("posix", "mkdir"), t) + pickle.STOP,
        # __reduce__ to eval / exec
        "reduce_eval": PROTO4 + call(stack_global("builtins", "eval"),
                                     text(f"__import__('os').mkdir({str(target)!r})")) + pickle.STOP,
        "reduce_exec_py2_name": PROTO2 + call(global_("__builtin__", "exec"),
                                              text(f"import os; os.mkdir({str(target)!r})")) + pickle.STOP,
        # getattr chains: from a listed class to its module globals, then to os.mkdir
        "getattr_chain": PROTO4 + call(
            stack_global("builtins", "getattr"),
            call(stack_global("builtins", "getattr"),
                 call(stack_global("builtins", "getattr"), stack_global("engine.search", "GridProposer"),
                      text("__init__")),
                 text("__globals__")),
            text("os")) + pickle.STOP,
        "getattr_dunder_of_random_state": PROTO4 + call(
            stack_global("builtins", "getattr"),
            call(stack_global("numpy.random.mtrand", "RandomState")), text("__reduce__")) + pickle.STOP,
        # copyreg: a reconstructor with a foreign base, its module globals, its __newobj__
        "copyreg_reconstructor_foreign_base": PROTO2 + call(
            stack_global("copyreg", "_reconstructor"), stack_global("builtins", "object"),
            global_("subprocess", "Popen"), text("x")) + pickle.STOP,
        "copyreg_globals": PROTO4 + call(stack_global("copyreg", "_reconstructor.__globals__")) + pickle.STOP,
        "copyreg_newobj": PROTO2 + call(stack_global("copyreg", "__newobj__"), global_("os", "mkdir")) + pickle.STOP,
        # a class of an allowed module that runs a command when called: build it, then call the instance
        "nevergrad_command_function": PROTO4 + call(
            call(stack_global("nevergrad.parametrization.utils", "CommandFunction"),
                 pickle.MARK + text("mkdir") + t + pickle.LIST), ) + pickle.STOP,
        "nevergrad_delayed_job": PROTO4 + call(stack_global("nevergrad.optimization.utils", "DelayedJob"),
                                               stack_global("os", "mkdir"), t) + pickle.STOP,
        "nevergrad_set_env": PROTO4 + call(stack_global("nevergrad.common.tools", "set_env")) + pickle.STOP,
    }


@pytest.mark.parametrize("case", sorted(hostile_pickles(Path("/x"))))
def test_hostile_pickle_is_refused_and_runs_nothing(case: str, tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    blob = hostile_pickles(target)[case]
    with pytest.raises(_NotAllowed):
        load(blob)
    assert not target.exists()


def test_the_reported_bypass_is_real_without_the_check(tmp_path: Path) -> None:
    """Control: the dotted-name pickle does run os.mkdir under a plain unpickler (so the test above can fail)."""
    target = tmp_path / "pwned"
    plain_load(hostile_pickles(target)["stack_global_dotted"])
    assert target.is_dir()


def test_copyreg_extension_codes_go_through_the_check(tmp_path: Path) -> None:
    """EXT1 names a global by a registered code; the unpickler must check what the code stands for."""
    target = tmp_path / "pwned"
    code = 0xF1
    copyreg.add_extension("os", "mkdir", code)
    try:
        blob = PROTO2 + call(pickle.EXT1 + bytes([code]), text(str(target))) + pickle.STOP
        with pytest.raises(_NotAllowed):
            load(blob)
        assert not target.exists()
        plain_load(blob)  # control: the code does resolve to os.mkdir
        assert target.is_dir()
    finally:
        copyreg.remove_extension("os", "mkdir", code)


def test_a_random_state_method_is_the_only_getattr() -> None:
    rs = np.random.RandomState(4)
    blob = PROTO4 + call(stack_global("builtins", "getattr"), pickle.dumps(rs, protocol=3)[2:-1], text("randn")) \
        + pickle.STOP
    method = load(blob)
    assert np.array_equal(method(3), np.random.RandomState(4).randn(3))


def test_hostile_checkpoint_with_matching_checksum_is_not_loaded(tmp_path: Path) -> None:
    """End to end: the bypass written as a run's checkpoint with a valid manifest restarts the optimizer instead."""
    from tests.support import fake_fit

    data = tmp_path / "small.npz"
    rng = np.random.default_rng(0)
    c = rng.random((6, 6)); c = (c + c.T) / 2; np.fill_diagonal(c, 0)
    d = rng.random((6, 6)) * 50 + 10; d = (d + d.T) / 2; np.fill_diagonal(d, 0)
    np.savez(data, Cmat=c, Dmat=d, BOLDs=rng.standard_normal((3, 6, 50)))
    run = fake_fit(data, tmp_path, "bypass", cancel_after=4)
    manifest = json.loads((run / runs.MANIFEST).read_text())
    target = tmp_path / "pwned"
    blob = hostile_pickles(target)["stack_global_dotted"]
    (run / manifest["file"]).write_bytes(blob)
    (run / runs.MANIFEST).write_text(json.dumps(dict(manifest, sha256=hashlib.sha256(blob).hexdigest(),
                                                     size=len(blob))))
    _, _, resume, rec = runs.record_existing(run)
    rec.close()
    assert not target.exists()
    assert resume.evaluations == 4
    assert any("nevergrad.common.testing.os.mkdir" in n and "restarts fresh" in n for n in rec.notes)


# ---------------------------------------------------------------------------
# what must still load


@pytest.mark.parametrize("n_params", [1, 2])
@pytest.mark.parametrize("name", [o for o in OPTIMIZERS if o != "NGOpt"])  # NGOpt: see test_search
def test_real_checkpoints_load_and_continue_identically(name: str, n_params: int) -> None:
    """A checkpoint of every offered optimizer loads through the unpickler and asks what the original asks."""
    bounds = {"k": (0.5, 3.0), "sigma": (0.0, 0.2)} if n_params == 2 else {"k": (0.5, 3.0)}
    cfg = FitConfig(optimizer=name, batch=4, budget=40, bounds=bounds, fixed={}, seed=5)
    proposer = make_proposer(cfg)
    rng = np.random.default_rng(1)
    try:
        for _ in range(3):
            v = proposer.ask(4)
            proposer.tell(v, rng.random(len(v)))
        blob = pickle.dumps(proposer)
        loaded = load(blob)
        assert type(loaded) is type(proposer)
        for _ in range(2):
            a, b = proposer.ask(4), loaded.ask(4)
            np.testing.assert_array_equal(a, b)
            losses = rng.random(len(a))
            proposer.tell(a, losses)
            loaded.tell(b, losses)
    finally:
        stop_helper_threads()
