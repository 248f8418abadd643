"""What the main screen's fit threads do: run a new fit, resume a run directory, follow one (attach mode).

Each function runs inside a Textual thread worker of the screen (``MainScreen.run_fit`` and its kin); every engine
event goes through the screen's pump (and the run recorder), and a failure is one event, never a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from textual.worker import get_current_worker

from engine.events import ActorsUpdated, Event, Failed, Started, Summary, Warned
from engine.runner import RecordedFit
from engine.runs import follow, replay
from tui.screens.workbench import run_cmat

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


def failed_summary(reason: str) -> Summary:
    """The summary of a fit that could not start (nothing evaluated)."""
    return Summary(status="failed", reason=reason, names=(), best_params=None, best_loss=None, recommendation=None,
                   recommendation_loss=None, evaluations=0, nan_candidates=0, wall_s=0.0, device="")


def run_fit(screen: MainScreen, config: Any, dataset: Any, cluster: str | None) -> None:
    """A new fit of ``config`` on ``dataset``, recorded in a run directory when one can be written."""
    try:
        fit = RecordedFit.new(config, dataset, cluster=cluster)
    except Exception as e:  # noqa: BLE001 - the fit still runs, only unrecorded
        screen.pump(Warned(message=f"no run directory written: {type(e).__name__}: {e}"))
        fit = RecordedFit.new(config, dataset, record_run=False, cluster=cluster)
    if fit.path is not None:
        screen.app.call_from_thread(screen.recording, str(fit.path))
    search_here(screen, fit)


def resume_fit(screen: MainScreen, path: str, cluster: str | None) -> None:
    """Continue a stopped, failed or crashed run directory from its checkpoint, showing its history first."""
    fit = None
    try:
        fit = RecordedFit.resumed(path, cluster=cluster)
        history = [e for e in replay(path) if not isinstance(e, (Started, ActorsUpdated))]  # this run's own
    except Exception as e:  # noqa: BLE001 - a run that cannot be resumed is one line; nothing on disk is lost
        if fit is not None and fit.recorder is not None:
            fit.recorder.close()
        screen.pump(Failed(summary=failed_summary(f"cannot resume {path}: {e}")))
        screen.pump.flush()
        return
    assert fit.resume is not None
    screen.cmat = fit.dataset.cmat
    screen.app.call_from_thread(screen.recording, str(fit.path),
                                f"resuming at evaluation {fit.resume.evaluations} of {fit.config.budget}")
    search_here(screen, fit, history=history + [Warned(message=n) for n in fit.notes])


def search_here(screen: MainScreen, fit: RecordedFit, *, history: Iterable[Event] = ()) -> None:
    """The fit in this worker thread; ``history`` (a resumed run's logged events) follows its Started."""
    worker = get_current_worker()
    pending = list(history)
    said = {e.message for e in pending if isinstance(e, Warned)}  # a resumed run warns again of the same things

    def listener(event: Event) -> None:
        if not (isinstance(event, Warned) and event.message in said):
            screen.pump(event)
        if pending and isinstance(event, Started):  # shown, not recorded again: they are on disk already
            for e in pending:
                screen.pump(e)
            pending.clear()
        if worker.is_cancelled and screen.search is not None:
            screen.search.cancel()

    fit.listeners.insert(0, listener)
    screen.search = fit.search
    try:
        if worker.is_cancelled:
            fit.cancel()
        fit.run()
    except Exception as e:  # noqa: BLE001 - e.g. the run directory could not be closed cleanly
        screen.pump(Warned(message=f"run directory not closed cleanly: {e}"))
    finally:
        screen.pump.flush()


def follow_run(screen: MainScreen, path: str) -> None:
    """Replay and follow an existing run directory until the screen stops following."""
    screen.run_path = path
    screen.cmat = run_cmat(path)
    try:
        for event in follow(path, screen.stop_follow):
            screen.pump(event)
            if get_current_worker().is_cancelled:
                break
    except Exception as e:  # noqa: BLE001
        screen.pump(Failed(summary=failed_summary(f"cannot follow {path}: {type(e).__name__}: {e}")))
    finally:
        screen.pump.flush()
