"""Helper for tests/test_runs.py: run (or resume) a recorded fit in a subprocess.

usage: python tests/_runs_fit.py fit CONFIG_JSON OUT NAME | python tests/_runs_fit.py resume RUN_DIR
"""

from __future__ import annotations

import sys
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

    if argv[0] == "fit":
        config = FitConfig.from_json(Path(argv[1]).read_text())
        dataset = load_dataset(config.data)
        recorder = record(config, dataset, out=argv[2], name=argv[3])
        resume = None
    else:
        config, dataset, resume, recorder = record_existing(argv[1])
        for note in recorder.notes:
            print(note, flush=True)
    with recorder:
        search = Search(config, dataset, listeners=[recorder.listener, show], checkpointer=recorder.checkpointer,
                        resume=resume)
        summary = search.run()
    print(f"status {summary.status} evaluations {summary.evaluations} {summary.reason}", flush=True)
    return 0 if summary.status == "finished" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
