"""One preparation for every fit: settings and data in, a ``PreparedFit`` out — or one line saying what is wrong.

``prepare_fit`` loads and checks the data, aligns the FCD window with a group's FCD values, builds the local
objective (which checks everything that needs the data: TR, samples, FCD windows, maps, FIC) and with it the
training target, loads the held-out data and builds its target once, runs the held-out compatibility checks
and collects the settings' caveats. The command line, the app, the Python API, studies and the cluster path all
reach it (the app, studies and resumes through ``Search``, which prepares a fit it was not given prepared); the
search then scores against its targets instead of rebuilding them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.caveats import config_caveats, fcd_caveat
from engine.config import ConfigError, FitConfig
from engine.data.dataset import DataError, Dataset, load_dataset
from engine.model.target import FitTarget, align_group_fcd, build_target

#: The fewest regions a network (and an FC correlation) needs.
MIN_NODES = 2


@dataclass(frozen=True, kw_only=True)
class PreparedFit:
    """A fit ready to run: its (aligned) settings, data, targets, local objective and caveats."""

    config: FitConfig
    dataset: Dataset
    target: FitTarget  # what the fit scores against (under --split the training scans only)
    objective: Any = None  # the local engine.model.objective.Objective, when built (a cluster scores elsewhere)
    test_dataset: Dataset | None = None  # --test DATA
    test_target: FitTarget | None = None  # the held-out check's target (--split's test scans or --test data)
    caveats: tuple[str, ...] = ()  # what the settings make the score measure besides the model's steady-state FC

    @property
    def n_samples(self) -> int | None:
        """The model's samples per candidate (sampled observations, with a local objective), else None."""
        sampling = getattr(self.objective, "sampling", None)
        return None if sampling is None else int(sampling.n_samples)


def checked_dataset(config: FitConfig, dataset: Dataset | str | None = None) -> Dataset:
    """The dataset to fit (``dataset``, a source to load, or ``config.data``), checked to hold a network (DataError)."""
    data = load_dataset(config.data if dataset is None else dataset) if dataset is None or isinstance(dataset, str) \
        else dataset
    if data.n_nodes < MIN_NODES:
        raise DataError(f"need at least {MIN_NODES} regions")
    return data


def group_fcd_window(dataset: Dataset) -> tuple[float, float] | None:
    """The FCD window and step (s) a fit on ``dataset`` must use: its group FCD values' (None: any, e.g. scans)."""
    from engine.model.target import group_fcd_samples

    return None if dataset.scans else group_fcd_samples(dataset)


def held_out_targets(config: FitConfig, dataset: Dataset, train: FitTarget, *, test_dataset: Dataset | None = None,
                     n_samples: int | None = None) -> tuple[Dataset | None, FitTarget | None]:
    """The ``--test`` dataset and the held-out target, checked against the fit (ConfigError/DataError, one line)."""
    from engine.model import heldout  # lazy: held-out scoring loads JAX's FCD

    if not (config.split or config.test_data):
        return None, None
    test = test_dataset if test_dataset is not None else heldout.load_test_dataset(config, dataset)
    target = heldout.test_target(config, dataset, test, n_samples)
    if config.objective_spec.needs_fcd and target.tr_s != train.tr_s:
        raise ConfigError(f"--test {config.test_data}: its TR ({target.tr_s:g} s) differs from the fitted data's "
                          f"({train.tr_s:g} s): their FCD windows would not match")
    return test, target


def prepare_fit(config: FitConfig, *, dataset: Dataset | str | None = None, test_dataset: Dataset | None = None,
                fcd_window_given: bool = False, local: bool = True) -> PreparedFit:
    """Prepare ``config``'s fit on ``dataset`` (a Dataset, a source, or None: ``config.data``).

    The FCD window follows a group's FCD values unless ``fcd_window_given``. With ``local`` the local objective
    is built (it checks what needs the data and builds the target); without it (a cluster's actors score) the
    target is built alone. Raises ConfigError or DataError (one line) for settings the data cannot fit.
    """
    data = checked_dataset(config, dataset)
    if not fcd_window_given:
        config = align_group_fcd(config, data)
    objective = None
    if local:
        from engine.model.objective import Objective  # lazy: JAX

        objective = Objective(data, config)
        target = objective.target
    else:
        target = build_target(config, data)
    prepared = PreparedFit(config=config, dataset=data, target=target, objective=objective)
    test, test_target = held_out_targets(config, data, target, test_dataset=test_dataset,
                                         n_samples=prepared.n_samples)
    caveats = [*config_caveats(config), fcd_caveat(config, target.tr_s)]
    return PreparedFit(config=config, dataset=data, target=target, objective=objective, test_dataset=test,
                       test_target=test_target, caveats=tuple(c for c in caveats if c))
