"""Objective terms and their parser: numbers against numpy float64, every parse error as one line."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from engine.model.terms import NAMES, REGISTRY, Signals, Target, evaluate
from engine.objective_spec import ObjectiveError, ObjectiveSpec


@pytest.mark.parametrize(("text", "terms", "canonical"), [
    ("fc", (("fc", 1.0),), "fc"),
    ("fc+fcd_ks", (("fc", 1.0), ("fcd_ks", 1.0)), "fc+fcd_ks"),
    ("fc+0.5*fcd_ks", (("fc", 1.0), ("fcd_ks", 0.5)), "fc+0.5*fcd_ks"),
    ("0.7*fc + 0.3*fcd_ks", (("fc", 0.7), ("fcd_ks", 0.3)), "0.7*fc+0.3*fcd_ks"),
    ("  1e-1 * fc_rmse+2.5E+2*fc ", (("fc_rmse", 0.1), ("fc", 250.0)), "0.1*fc_rmse+250.0*fc"),
    ("1*fc+.5*fc_rmse+3.*fcd_ks", (("fc", 1.0), ("fc_rmse", 0.5), ("fcd_ks", 3.0)), "fc+0.5*fc_rmse+3.0*fcd_ks"),
    ("0.30000000000000004*fc", (("fc", 0.30000000000000004),), "0.30000000000000004*fc"),
])
def test_parse_and_canonical_text_round_trip(text: str, terms: tuple, canonical: str) -> None:
    spec = ObjectiveSpec.parse(text)
    assert spec.terms == terms and str(spec) == canonical
    assert ObjectiveSpec.parse(str(spec)) == spec
    assert spec.names == tuple(n for n, _ in terms)
    assert spec.needs_fcd == ("fcd_ks" in spec.names)


@pytest.mark.parametrize(("text", "match"), [
    ("", "empty"),
    ("   ", "empty"),
    ("fcx", "unknown objective term 'fcx'; known terms: fc, fc_rmse, fcd_ks"),
    ("fc+FC", "unknown objective term 'FC'"),
    ("fc+fc", "more than once"),
    ("fc+0.5*fc", "more than once"),
    ("0*fc", "must be a finite number > 0"),
    ("-0.5*fc", "must be a finite number > 0"),
    ("inf*fc", "must be a finite number > 0"),
    ("nan*fc", "must be a finite number > 0"),
    ("1e999*fc", "must be a finite number > 0"),
    ("fc*0.5", "cannot read"),
    ("fc+", "cannot read"),
    ("fc++fcd_ks", "cannot read"),
    ("fc-fcd_ks", "cannot read"),
    ("0.5 fc", "cannot read"),
    ("(fc)", "cannot read"),
])
def test_parse_rejects_bad_text_in_one_line(text: str, match: str) -> None:
    with pytest.raises(ObjectiveError, match=match.replace("(", r"\(")) as err:
        ObjectiveSpec.parse(text)
    assert "\n" not in str(err.value) and isinstance(err.value, ValueError)


def test_spec_is_checked_at_construction() -> None:
    with pytest.raises(ObjectiveError, match="empty"):
        ObjectiveSpec(terms=())
    with pytest.raises(ObjectiveError, match="unknown"):
        ObjectiveSpec(terms=(("r2", 1.0),))
    with pytest.raises(ObjectiveError, match="> 0"):
        ObjectiveSpec(terms=(("fc", True),))  # type: ignore[arg-type]


def test_registry_is_read_only_and_complete() -> None:
    assert NAMES == ("fc", "fc_rmse", "fcd_ks", "fc_level", "fic")
    assert all(REGISTRY[n].name == n and REGISTRY[n].description for n in NAMES)
    assert [n for n in NAMES if REGISTRY[n].needs_fcd] == ["fcd_ks"]
    assert [n for n in NAMES if REGISTRY[n].host] == ["fic"]
    with pytest.raises(TypeError):
        REGISTRY["x"] = REGISTRY["fc"]  # type: ignore[index]


def random_fc(n: int, rng: np.random.Generator) -> np.ndarray:
    """A symmetric correlation matrix."""
    return np.corrcoef(rng.normal(size=(3 * n, n)) @ rng.normal(size=(n, n)), rowvar=False)


@pytest.fixture(scope="module")
def batch() -> tuple[Signals, Target, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Signals and target in float64 and the same data as numpy arrays."""
    rng = np.random.default_rng(7)
    n, b = 9, 4
    model_fc = np.stack([random_fc(n, rng) for _ in range(b)], axis=-1)
    target_fc = random_fc(n, rng)
    fcd = rng.normal(0.3, 0.2, size=(45, b))
    ref = np.sort(rng.normal(0.35, 0.25, size=300))
    sig = Signals(fc=jnp.asarray(model_fc), fcd=jnp.asarray(fcd))
    tgt = Target(fc=jnp.asarray(target_fc), fcd_sorted=jnp.asarray(ref))
    return sig, tgt, model_fc, target_fc, fcd, ref


def test_terms_equal_numpy_float64(batch: tuple) -> None:
    sig, tgt, model_fc, target_fc, fcd, ref = batch
    iu = np.triu_indices(target_fc.shape[0], k=1)
    b = model_fc.shape[-1]
    want_fc = [1.0 - np.corrcoef(model_fc[..., k][iu], target_fc[iu])[0, 1] for k in range(b)]
    want_rmse = [np.sqrt(np.mean((model_fc[..., k][iu] - target_fc[iu]) ** 2)) for k in range(b)]
    want_ks = [stats.ks_2samp(ref, fcd[:, k]).statistic for k in range(b)]
    for name, want in (("fc", want_fc), ("fc_rmse", want_rmse), ("fcd_ks", want_ks)):
        got = np.asarray(jax.jit(REGISTRY[name].fn)(sig, tgt))
        assert got.shape == (b,) and got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=name)


def test_evaluate_weights_the_terms(batch: tuple) -> None:
    sig, tgt, *_ = batch
    spec = ObjectiveSpec.parse("0.7*fc + 0.25*fcd_ks+2*fc_rmse")
    loss, terms = jax.jit(lambda s, t: evaluate(spec, s, t))(sig, tgt)
    assert set(terms) == {"fc", "fcd_ks", "fc_rmse"}
    for name in terms:
        np.testing.assert_allclose(np.asarray(terms[name]), np.asarray(REGISTRY[name].fn(sig, tgt)), rtol=1e-14)
    want = 0.7 * np.asarray(terms["fc"]) + 0.25 * np.asarray(terms["fcd_ks"]) + 2.0 * np.asarray(terms["fc_rmse"])
    np.testing.assert_allclose(np.asarray(loss), want, rtol=1e-14)
    single, only = evaluate(ObjectiveSpec.parse("fc"), sig, tgt)
    np.testing.assert_array_equal(np.asarray(single), np.asarray(only["fc"]))


def test_evaluate_keeps_float32_and_needs_fcd_when_asked(batch: tuple) -> None:
    sig, tgt, *_ = batch
    sig32 = Signals(fc=sig.fc.astype(jnp.float32), fcd=sig.fcd.astype(jnp.float32))
    tgt32 = Target(fc=tgt.fc.astype(jnp.float32), fcd_sorted=tgt.fcd_sorted.astype(jnp.float32))
    spec = ObjectiveSpec.parse("fc+0.5*fcd_ks+fc_rmse")
    loss, terms = jax.jit(lambda s, t: evaluate(spec, s, t))(sig32, tgt32)
    assert loss.dtype == jnp.float32 and all(v.dtype == jnp.float32 for v in terms.values())
    with pytest.raises(ValueError, match="needs FCD"):
        evaluate(ObjectiveSpec.parse("fc+fcd_ks"), Signals(fc=sig.fc), Target(fc=tgt.fc))
    loss_fc, _ = evaluate(ObjectiveSpec.parse("fc_rmse"), Signals(fc=sig.fc), Target(fc=tgt.fc))
    assert loss_fc.shape == (sig.fc.shape[-1],)
