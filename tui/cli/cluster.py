"""Command-line glue for clusters: the ``--cluster``/``--cpu-actors`` options and the objective they ask for."""

from __future__ import annotations

import argparse
from typing import Any

from engine.config import FitConfig
from engine.data.dataset import Dataset


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    """Add ``--cluster ADDRESS`` and ``--cpu-actors N`` to a fit-like command."""
    p.add_argument("--cluster", default=None, metavar="ADDRESS",
                   help='score batches on a Ray cluster (e.g. 10.0.0.1:6379; needs pip install -e ".[cluster]")')
    p.add_argument("--cpu-actors", type=int, default=None, metavar="N",
                   help="with --cluster: actors per CPU-only host, its cores split between them (default 1)")


def objective_for(args: argparse.Namespace, config: FitConfig, dataset: Dataset) -> Any:
    """A ClusterObjective when ``--cluster`` was given (raises ClusterError, a one-line error), else None."""
    address = getattr(args, "cluster", None)
    if not address:
        return None
    from engine.cluster.objective import ClusterError, ClusterObjective, import_ray

    import_ray()  # before anything else: no Ray → the install hint, nothing written
    cpu_actors = getattr(args, "cpu_actors", None)
    if cpu_actors is not None and cpu_actors < 1:
        raise ClusterError(f"--cpu-actors must be at least 1, got {cpu_actors}")
    return ClusterObjective(dataset, config, address=address, cpu_actors=cpu_actors)
