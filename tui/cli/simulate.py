"""The ``simulate`` subcommand: one candidate's signals, FC, FCD and scores into an .npz."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace

from engine import devices, presets
from engine.config import ConfigError, parse_bound, parse_fixed
from engine.model import simulate as sim_module
from engine.model.target import align_group_fcd
from engine.prepare import checked_dataset
from tui.cli.errors import EXIT_OK
from tui.cli.options.fit import add_fit_options, config_from_args, fcd_window_given
from tui.cli.options.scoring import summary_lines
from tui.cli.parser import Subparsers


def cmd_simulate(args: argparse.Namespace) -> int:
    """``wcfit-tui simulate``: one candidate, its signals and scores into an .npz; exit 2 on bad input."""
    out = Path(args.out)
    if out.suffix != ".npz":
        raise ConfigError(f"--out must name an .npz file, got {args.out!r}")
    if not out.parent.exists():
        raise ConfigError(f"the folder of --out does not exist: {out.parent}")
    preset = presets.get(args.preset or presets.DEFAULT)
    given = dict(parse_fixed(t) for t in args.fixed)
    fitted = set(dict(parse_bound(t) for t in args.param)) if args.param else set(preset.settings.get("bounds", {}))
    args.fixed = [t for t in args.fixed if parse_fixed(t)[0] not in fitted]  # a fitted name given a value: its value
    config = config_from_args(args)
    # a fitted parameter: its given value, else the preset's point, else its bounds' middle
    values = presets.point_within(preset.name, config.names, config.bounds)
    values.update({n: v for n, v in given.items() if n in config.bounds})
    dataset = checked_dataset(config)
    if not fcd_window_given(args):  # a group's FCD values fix the FCD window and step
        config = align_group_fcd(config, dataset)
    devices.enable_compilation_cache()
    sim = sim_module.simulate(config, dataset, values)
    sim_module.save(sim, dataset, out)
    d = sim_module.summary_dict(sim, config)
    d["out"] = str(out)
    if args.json:
        print(json.dumps(d))
    else:
        terms = ", ".join(f"{k} {v:.6f}" for k, v in sim.terms.items())
        params = ", ".join(f"{k} = {values[k]:.6g}" for k in values)
        fixed = ", ".join(f"{k} = {float(v):.6g}" for k, v in config.fixed.items())  # a fixed map coefficient too
        print("\n".join([
            f"parameters      {params}",
            *([f"fixed           {fixed}"] if fixed else []),
            f"loss            {sim.loss:.6f}" + (f"  ({terms})" if len(sim.terms) > 1 else ""),
            f"FC correlation  {sim.fc_corr:.6f}" + (f"  ({sim.flag})" if sim.flag else ""),
            f"structure alone {sim.structural_baseline:.6f}",
            *summary_lines(SimpleNamespace(edges=config.edges, realizations=config.realizations,
                                           held_out=sim.held_out)),
            f"signals         rE {sim.rE.shape[0]} ms × {sim.rE.shape[1]}, {config.observe} samples {sim.bold.shape[0]}",
            f"wall time       {sim.wall_s:.1f} s",
            f"written         {out}",
        ]))
    return EXIT_OK


def register(subparsers: Subparsers) -> tuple[argparse.ArgumentParser, ...]:
    """Add the ``simulate`` subcommand."""
    p = subparsers.add_parser("simulate", help="simulate one candidate and write rE, BOLD, FC and FCD to an .npz",
                       description="Simulate one candidate (fitted parameters at the preset's point unless --fixed "
                                   "gives them) and write its signals, FC, FCD and scores.")
    add_fit_options(p)
    p.add_argument("--json", action="store_true", help="print the scores as one JSON object")
    p.add_argument("--out", required=True, metavar="FILE.npz", help="where to write the arrays")
    p.set_defaults(func=cmd_simulate)
    return (p,)
