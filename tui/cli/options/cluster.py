"""Command-line glue for clusters: the ``--cluster``/``--cpu-actors`` options and the objective they ask for."""

from __future__ import annotations

import argparse

from engine.cluster.objective import ClusterObjective
from engine.config import FitConfig
from engine.data.dataset import Dataset
from engine.runner import cluster_objective


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    """Add ``--cluster ADDRESS`` and ``--cpu-actors N`` to a fit-like command."""
    p.add_argument("--cluster", default=None, metavar="ADDRESS",
                   help='score batches on a Ray cluster (e.g. 10.0.0.1:6379; needs pip install -e ".[cluster]")')
    p.add_argument("--cpu-actors", type=int, default=None, metavar="N",
                   help="with --cluster: actors per CPU-only host, its cores split between them (default 1)")


def objective_for(args: argparse.Namespace, config: FitConfig, dataset: Dataset) -> ClusterObjective | None:
    """A ClusterObjective when ``--cluster`` was given (raises ClusterError, a one-line error), else None."""
    address = getattr(args, "cluster", None)
    return cluster_objective(config, dataset, address, getattr(args, "cpu_actors", None)) if address else None
