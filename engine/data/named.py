"""Named datasets shipped inside the package besides the default HCP-80: ``--data schaefer100``.

``schaefer100``: the Schaefer-100 group data of cuBNM's HCP "train" group of 706 subjects (BSD 3-Clause, see
``bundled/schaefer100/LICENSE-cubnm`` and its README): group Cmat, Dmat, FC, TR 0.72 s, labels LH_…/RH_… and the
group's FCD values (windows of 30 TRs, step 5, from the .npy file's name). No BOLD scans: ``--split`` does not
apply; ``--objective fc+fcd_ks`` fits the group FCD distribution. Its ``maps/`` folder holds regional maps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from engine.data.errors import DataError
from engine.data.group import check_fcd_values, window_step_from_name


def bundled_dir(name: str) -> Path:
    """The folder of a named bundled dataset (``engine/data/bundled/<name>``)."""
    return Path(__file__).with_name("bundled") / name


#: How a named loader reads the data file it ships (``engine.data.dataset``'s reader, passed in by ``load_dataset``).
LoadPath = Callable[..., Any]


def _schaefer100(load_path: LoadPath) -> Any:
    folder = bundled_dir("schaefer100")
    npz = folder / "schaefer100_train706.npz"
    dataset = load_path(npz, name="schaefer100 (bundled)", source="schaefer100")
    files = sorted(folder.glob("fcd_values_*.npy"))
    if not files:
        return dataset
    ws = window_step_from_name(files[0].name)
    if ws is None:
        raise DataError(f"{files[0]}: the file name does not state the FCD window and step (…_window30_step5.npy)")
    try:
        values = np.load(files[0], allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {files[0]}: {e}") from None
    return dataclasses.replace(dataset, **check_fcd_values(values, ws[0], ws[1], path=files[0]))


#: Named bundled datasets: name → loader.
NAMED: Mapping[str, Callable[[LoadPath], Any]] = MappingProxyType({"schaefer100": _schaefer100})


def load_named(name: str, load_path: LoadPath) -> Any:
    """Load a named bundled dataset (a Dataset), reading its files with ``load_path``."""
    return NAMED[name](load_path)
