"""``wcfit-tui info``: the JAX backend, devices, memory and compilation cache, or a Ray cluster's actors."""

from __future__ import annotations

import argparse

from engine.cluster.info import cluster_info_lines
from engine.devices import info_lines
from tui.cli.errors import EXIT_OK
from tui.cli.parser import Subparsers


def register(subparsers: Subparsers) -> tuple[argparse.ArgumentParser, ...]:
    """Add the ``info`` subcommand."""
    info = subparsers.add_parser("info", help="print JAX backend, devices and memory")
    info.add_argument("--cluster", default=None, metavar="ADDRESS", help="list a Ray cluster's actors instead")
    info.set_defaults(func=cmd_info)
    return (info,)


def cmd_info(args: argparse.Namespace) -> int:
    """``wcfit-tui info``: backend, devices, memory, GPUs, compilation cache."""
    print("\n".join(cluster_info_lines(args.cluster) if args.cluster else info_lines()))
    return EXIT_OK
