"""Helper for tests/test_runs.py: run (or resume) a recorded fit in a subprocess.

usage: python tests/_runs_fit.py fit CONFIG_JSON OUT NAME | python tests/_runs_fit.py resume RUN_DIR

With WCFIT_TEST_HOLD=call:N (or save:N) and WCFIT_TEST_HOLD_FILE=PATH the fit stops for good inside the objective's
N-th call (or inside the checkpoint save that follows evaluation N being logged) after creating PATH: a test waits
for PATH and kills the process in exactly that state, whatever the machine's speed.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    """Run a fit recorded into a run directory; print one line per batch."""
    from engine.config import FitConfig
    from engine.data.dataset import load_dataset
    from engine.events import BatchEvaluated
    from engine.runs import record, record_existing
    from engine.search import Search

    def show(event: object) -> None:
        if isinstance(event, BatchEvaluated):
            print(f"batch {event.batch_index} evaluations {event.evaluations}", flush=True)

    hold = os.environ.get("WCFIT_TEST_HOLD", "")
    where, _, count = hold.partition(":")

    def held() -> None:
        Path(os.environ["WCFIT_TEST_HOLD_FILE"]).write_text(hold)
        threading.Event().wait()  # until killed

    if where == "call":
        import functools

        from engine.model.objective import Objective

        real_call, calls = Objective.__call__, []

        @functools.wraps(real_call)
        def gated(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            calls.append(1)
            if len(calls) == int(count):
                held()
            return real_call(self, *args, **kwargs)

        Objective.__call__ = gated  # type: ignore[method-assign]

    if argv[0] == "fit":
        config = FitConfig.from_json(Path(argv[1]).read_text())
        dataset = load_dataset(config.data)
        recorder = record(config, dataset, out=argv[2], name=argv[3])
        resume = None
    else:
        config, dataset, resume, recorder = record_existing(argv[1])
        for note in recorder.notes:
            print(note, flush=True)
    checkpointer = real_checkpointer = recorder.checkpointer
    if where == "save":
        class HeldSave:
            def save(self, *, proposer: bytes, evaluations: int, batches: int) -> None:
                if evaluations >= int(count):  # evaluation N is logged; its checkpoint is never written
                    held()
                real_checkpointer.save(proposer=proposer, evaluations=evaluations, batches=batches)

        checkpointer = HeldSave()
    with recorder:
        search = Search(config, dataset, listeners=[recorder.listener, show], checkpointer=checkpointer,
                        resume=resume)
        summary = search.run()
    print(f"status {summary.status} evaluations {summary.evaluations} {summary.reason}", flush=True)
    return 0 if summary.status == "finished" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
