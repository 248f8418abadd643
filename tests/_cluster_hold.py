"""A Scorer for the cluster tests that holds inside its share of a batch until the test kills its process.

Imported by the Ray actors themselves (PYTHONPATH is the repository root), so it lives in a module, not a test body.
The first actor to start scoring a batch from evaluation ``HOLD_FROM`` on claims ``hold_dir()/inside`` (an exclusive
create), writes its pid there and waits for good; every other call scores as usual. An ``armed`` file that reads
``KEY:N`` narrows that to the objective ``KEY`` (a study's subject) from evaluation N on.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from engine.cluster.actors import Scorer

HOLD_FROM = 6  # the second batch of 6


def hold_dir() -> Path:
    """The folder the test and the actors agree on: under the suite's temporary root, one per xdist worker (each worker
    starts its own Ray head, whose actors inherit the worker's environment), so two cluster tests running at once on
    two workers never take each other's ``armed`` or ``inside`` files."""
    return Path(os.environ["WCFIT_TEST_ROOT"]) / f"cluster-hold-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


class HoldingScorer(Scorer):
    """Scorer whose first share of a batch from HOLD_FROM on never returns: its actor dies mid-batch when killed."""

    def score(self, key: str, values: np.ndarray, first_lane: int) -> dict[str, Any]:
        """Score as Scorer does, except the one claimed share, which waits to be killed."""
        try:
            armed: str | None = (hold_dir() / "armed").read_text()
        except FileNotFoundError:
            armed = None
        # with ``node-only`` in the folder only an actor on the node started with WCFIT_TEST_HOLD_NODE holds
        eligible = not (hold_dir() / "node-only").exists() or os.environ.get("WCFIT_TEST_HOLD_NODE") == "1"
        only, _, since = (armed or "").rpartition(":")
        wanted = only in ("", key) and first_lane >= (int(since) if since else HOLD_FROM)
        if armed is not None and wanted and eligible:
            try:
                fd = os.open(hold_dir() / "inside", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                threading.Event().wait()
        return super().score(key, values, first_lane)
