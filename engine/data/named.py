"""Named datasets shipped inside the package besides the default HCP-80: ``--data schaefer100`` and its kin.

From cuBNM's wheel (BSD 3-Clause, see ``bundled/schaefer100/LICENSE-cubnm`` and its README), Schaefer-100, TR 0.72 s,
labels LH_…/RH_…: ``schaefer100`` — the HCP "train" group of 706 subjects (group Cmat, Dmat, FC and the group's FCD
values, windows of 30 TRs, step 5, from the .npy file's name; no scans, so ``--split`` does not apply);
``schaefer100-test`` — the "test" group of 303 other subjects, the same kinds of data (a held-out group for
``--test``); ``schaefer100-scans`` — four resting scans of two subjects on the train group's structure (``--split``),
with each subject's id and own structure for a study (``--per subject``).
Their ``maps/`` folder holds regional maps.
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


def _read_fcd(file: Path) -> dict[str, Any]:
    """The checked FCD fields of ``file`` (window and step from its name)."""
    ws = window_step_from_name(file.name)
    if ws is None:
        raise DataError(f"{file}: the file name does not state the FCD window and step (…_window30_step5.npy)")
    try:
        values = np.load(file, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {file}: {e}") from None
    return check_fcd_values(values, ws[0], ws[1], path=file)


def _with_fcd_values(dataset: Any, file: Path) -> Any:
    """``dataset`` with the FCD values of ``file`` and, when a ``…_within_…`` file lies beside it, the FCD values of
    within-hemisphere window FCs (cuBNM's ``exc-inter``) of the same windows."""
    fields = _read_fcd(file)
    within_file = file.with_name(file.name.replace("fcd_values_", "fcd_values_within_", 1))
    if within_file.is_file():
        within = _read_fcd(within_file)
        if (within["fcd_window_tr"], within["fcd_step_tr"]) != (fields["fcd_window_tr"], fields["fcd_step_tr"]):
            raise DataError(f"{within_file}: its window and step differ from {file.name}'s")
        fields["fcd_values_within"] = within["fcd_values"]
    return dataclasses.replace(dataset, **fields)


@dataclasses.dataclass(frozen=True)
class _Schaefer:
    """A loader of one of the Schaefer-100 files (and its FCD values, if any) in ``bundled/schaefer100``."""

    data_file: str
    fcd_file: str | None
    label: str

    @property
    def path(self) -> Path:
        """The data file."""
        return bundled_dir("schaefer100") / self.data_file

    def __call__(self, load_path: LoadPath) -> Any:
        dataset = load_path(self.path, name=f"{self.label} (bundled)", source=self.label)
        return dataset if self.fcd_file is None else _with_fcd_values(dataset, self.path.with_name(self.fcd_file))


#: Named bundled datasets: name → loader. All three share ``bundled/schaefer100/maps/`` and its structure's regions.
NAMED: Mapping[str, _Schaefer] = MappingProxyType({
    # cuBNM's "train" group (706 subjects): group structure, FC and FCD values
    "schaefer100": _Schaefer("schaefer100_train706.npz", "fcd_values_train706_window30_step5.npy", "schaefer100"),
    # cuBNM's "test" group (303 other subjects): its own group structure, FC and FCD values (``--test``)
    "schaefer100-test": _Schaefer("schaefer100_test303.npz", "fcd_values_test303_window30_step5.npy",
                                  "schaefer100-test"),
    # four resting scans (two subjects × REST1/REST2, 1200 TRs) on the train group's structure (``--split``); each
    # subject's id and own structure (Cmats, Dmats) for ``study --per subject``
    "schaefer100-scans": _Schaefer("schaefer100_scans.npz", None, "schaefer100-scans"),
})


def named_path(name: str) -> Path | None:
    """The data file behind a named dataset (its ``maps/`` folder lies beside it), or None for another name."""
    loader = NAMED.get(name.strip().lower())
    return None if loader is None else loader.path


def load_named(name: str, load_path: LoadPath) -> Any:
    """Load a named bundled dataset (a Dataset), reading its files with ``load_path``."""
    return NAMED[name](load_path)
