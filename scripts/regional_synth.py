"""A synthetic target for the regional preset's recovery check: the model's own BOLD FC at a known point.

schaefer100's structure; the drive follows a fixed map (the principal gradient of the real group FC, written as
``grad.txt``) and in-strength: k 2.6, ext_E 0.9, ext_E@grad −0.45, ext_E@strength −0.35, noise seed 7, 200 s.
Writes FOLDER/synth.npz (Cmat, Dmat, FC, TR, labels) and FOLDER/grad.txt. Usage: regional_synth.py FOLDER
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.data.dataset import load_dataset  # noqa: E402
from engine.data.maps import fc_gradient  # noqa: E402

TRUTH = {"ext_E@fcgradient": 0.0, "k": 2.6, "ext_E": 0.9, "ext_E@grad": -0.45, "ext_E@strength": -0.35}


def main(folder: Path) -> None:
    """Write the synthetic target and its map into ``folder``."""
    data = load_dataset("schaefer100")
    np.savetxt(folder / "grad.txt", fc_gradient(np.asarray(data.target_fc)))
    cmd = [str(Path(sys.executable).with_name("wcfit-tui")), "simulate", "--preset", "regional", "--data", "schaefer100",
           "--map", f"grad={folder / 'grad.txt'}", "--seed", "7", "--edges", "within", "--out", str(folder / "sim.npz")]
    for name, value in TRUTH.items():
        cmd += ["--fixed", f"{name}={value}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with np.load(folder / "sim.npz") as z:
        fc = z["fc"].astype(np.float64)
    np.savez(folder / "synth.npz", Cmat=data.cmat, Dmat=data.dmat, FC=fc, TR=0.72, labels=np.array(data.labels))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
