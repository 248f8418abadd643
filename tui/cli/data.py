"""The ``data`` subcommand: check a dataset and print what it holds and every problem, one line each.

Exit code 0 when the dataset can be used (problems that do not prevent it are printed as warnings), 2 when it
cannot (the loader's one-line reason on stderr).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import numpy as np

from engine.data import edges, maps
from engine.data.dataset import (
    DataError,
    Dataset,
    dataset_warnings,
    load_dataset,
    structural_baseline,
)
from tui.cli.errors import EXIT_BAD_INPUT, EXIT_OK
from tui.cli.parser import Subparsers

_LABELS_SHOWN = 6


def register(subparsers: Subparsers) -> tuple[argparse.ArgumentParser, ...]:
    """Add the ``data`` subcommand."""
    p = subparsers.add_parser(
        "data", help="check a dataset: regions, scans, TR, labels, structural baseline and every problem")
    p.add_argument("path", metavar="PATH",
                   help="bundled, a .msgpack/.npz/.mat file, a folder or .zip of tables, or kaggle:OWNER/DATASET[/FILE]")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(func=cmd_data)
    return (p,)


def describe(dataset: Dataset) -> dict[str, Any]:
    """What ``wcfit-tui data --json`` prints for a usable dataset."""
    r = structural_baseline(dataset)
    return {
        "usable": True,
        "name": dataset.name,
        "source": dataset.source,
        "n_nodes": dataset.n_nodes,
        "n_scans": dataset.n_scans,
        "samples": [int(s.shape[1]) for s in dataset.scans],
        "subjects": None if dataset.subjects is None else list(dict.fromkeys(dataset.subjects)),
        "scan_structure": [k for k, v in (("Cmats", dataset.scan_cmats), ("Dmats", dataset.scan_dmats)) if v is not None],
        "tr_s": dataset.tr_s,
        "labels": list(dataset.labels) if dataset.labels else None,
        "structural_baseline": r if math.isfinite(r) else None,
        "warnings": dataset_warnings(dataset),
        **_scoring_facts(dataset),
    }


def _scoring_facts(dataset: Dataset) -> dict[str, Any]:
    """Hemispheres (for ``--edges within``) and the within-hemisphere baseline; a group's FCD values."""

    out: dict[str, Any] = {"hemispheres": None, "structural_baseline_within": None, "group_fcd": None}
    hemi = edges.dataset_hemispheres(dataset)
    if hemi is not None:
        out["hemispheres"] = {"left": int((hemi == edges.LEFT).sum()), "right": int((hemi == edges.RIGHT).sum())}
        try:
            r = structural_baseline(dataset, edges=edges.edge_index("within", dataset.n_nodes, hemi))
            out["structural_baseline_within"] = r if math.isfinite(r) else None
        except edges.EdgeError:
            pass
    out["maps"] = _maps(dataset)
    if dataset.fcd_values is not None:
        out["group_fcd"] = {"values": int(dataset.fcd_values.size), "window_tr": dataset.fcd_window_tr,
                            "step_tr": dataset.fcd_step_tr}
    return out


def _maps(dataset: Dataset) -> dict[str, Any]:
    """The maps the data carries (categorical ones with their group count) and those the product derives."""
    try:
        raw = maps.read_maps(dataset)
    except DataError as e:
        return {"carried": None, "error": str(e), "derived": list(maps.DERIVED)}
    carried = {name: (len(np.unique(v)) if maps.is_categorical(v) else None) for name, v in raw.items()}
    return {"carried": carried, "error": None, "derived": list(maps.DERIVED)}


def _samples(lengths: list[int]) -> str:
    if not lengths:
        return "— (a precomputed FC, no scans)"
    lo, hi = min(lengths), max(lengths)
    return f"{lo} per scan" if lo == hi else f"{lo}–{hi} per scan"


def _subject_lines(info: dict[str, Any]) -> list[str]:
    """The data's subjects and per-scan structure, when it has them (what ``study --per subject`` uses)."""
    ids, own = info.get("subjects"), info.get("scan_structure")
    lines = []
    if ids:
        shown = ", ".join(ids[:_LABELS_SHOWN]) + (", …" if len(ids) > _LABELS_SHOWN else "")
        lines.append(f"subjects   {len(ids)}: {shown}  (study --per subject groups the scans by them)")
    if own:
        lines.append(f"structure  each scan its own ({', '.join(own)}): a study fits each subject on it; a fit of "
                     "the whole file on Cmat, Dmat")
    return lines


def _lines(info: dict[str, Any]) -> list[str]:
    tr = info["tr_s"]
    lengths = info["samples"]
    tr_text = "—" if tr is None else f"{tr:g} s" + (f" ({max(lengths) * tr:g} s per scan)" if lengths else "")
    labels = info["labels"]
    if labels:
        shown = ", ".join(labels[:_LABELS_SHOWN]) + (", …" if len(labels) > _LABELS_SHOWN else "")
        labels_text = f"{len(labels)}: {shown}"
    else:
        labels_text = "—"
    r = info["structural_baseline"]
    lines = [
        f"dataset    {info['name']}",
        f"source     {info['source']}",
        f"regions    {info['n_nodes']}",
        f"scans      {info['n_scans']}",
        f"samples    {_samples(lengths)}",
        *_subject_lines(info),
        f"TR         {tr_text}",
        f"labels     {labels_text}",
        "baseline   " + ("undefined" if r is None else f"r = {r:.4f}")
        + "  (Pearson r of Cmat and the target FC, upper triangles)",
    ]
    hemi, rw, group = info.get("hemispheres"), info.get("structural_baseline_within"), info.get("group_fcd")
    if hemi:
        lines.append(f"hemisphere {hemi['left']} left, {hemi['right']} right regions"
                     + ("" if rw is None else f"; baseline within hemispheres r = {rw:.4f} (--edges within)"))
    m = info.get("maps")
    if m:
        if m["error"]:
            lines.append(f"warning    maps: {m['error']}")
        carried = ", ".join(n if g is None else f"{n} ({g} groups)" for n, g in (m["carried"] or {}).items())
        lines.append(f"maps       {carried or 'none carried'}; derived: {', '.join(m['derived'])} (P@MAP)")
    if group:
        lines.append(f"group FCD  {group['values']} values, windows of {group['window_tr']} TRs, step "
                     f"{group['step_tr']} (fcd_ks fits them)")
    lines += [f"warning    {w}" for w in info["warnings"]] or ["ok         no problems found"]
    return lines


def cmd_data(args: argparse.Namespace) -> int:
    """``wcfit-tui data PATH``: exit 0 when the dataset can be used, 2 when it cannot."""
    try:
        dataset = load_dataset(args.path)
    except DataError as e:
        if args.json:
            print(json.dumps({"usable": False, "error": str(e)}))
        print(f"wcfit-tui: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    info = describe(dataset)
    print(json.dumps(info) if args.json else "\n".join(_lines(info)))
    return EXIT_OK
