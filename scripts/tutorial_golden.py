"""Print the tutorial setting's losses as JSON: tests/data/tutorial_golden.json was made by this script at the
commit before the engine gained observations and segments (a16e67e), and the tutorial preset must keep them within
float32 tolerance (tests/test_presets.py: a regression check against this engine's past, not against the tutorial).

    python scripts/tutorial_golden.py > tests/data/tutorial_golden.json
"""

from __future__ import annotations

import json
import subprocess
import sys

import brainstate  # noqa: F401 - as the tests: its import sets x64 from its precision; set ours after it
import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")

from engine.config import FitConfig  # noqa: E402
from engine.data.dataset import load_dataset  # noqa: E402
from engine.model.objective import Objective  # noqa: E402

CASES = [  # (name, duration ms, common noise, values of k)
    ("tutorial-6s-common", 6000.0, True, [0.5, 1.3, 2.2, 3.0]),
    ("tutorial-6s-own", 6000.0, False, [0.5, 1.3, 2.2, 3.0]),
    ("tutorial-1s-common-batch3", 1000.0, True, [0.7, 1.9, 2.8]),
]


def main() -> None:
    """Score each case on one device and print the losses with the commit they came from."""
    ds = load_dataset()
    out: dict[str, object] = {"commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                                       text=True).stdout.strip(), "cases": {}}
    for name, duration, common, ks in CASES:
        cfg = FitConfig(batch=len(ks), duration_ms=duration, common_noise=common)
        obj = Objective(ds, cfg, devices=jax.devices()[:1])
        res = obj(np.array(ks, np.float32).reshape(-1, 1))
        out["cases"][name] = {"duration_ms": duration, "common_noise": common, "k": ks,  # type: ignore[index]
                              "losses": [float(x) for x in res.losses], "best_index": res.best_index,
                              "best_fc_sum": float(np.sum(res.best_fc))}
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
