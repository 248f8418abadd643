"""What the main screen's export thread does: the four exports and the figure report, each failure one notice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from engine.report import ReportError
from tui.widgets.run_log import RunLog

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


def export_all(screen: MainScreen, export: Callable[[str, str], Any], path: str, report: Callable[[str], Any]) -> None:
    """Write candidates, summary, FCs and the labelled best FC, then the figure report (without matplotlib: its
    install hint); notify the written paths and log them."""
    call, notify = screen.app.call_from_thread, screen.notify
    written = []
    for fmt in ("csv", "json", "npz", "fc"):
        try:
            written.append(str(export(path, fmt)))
        except Exception as e:  # noqa: BLE001
            call(notify, f"export {fmt} failed: {e}", severity="error")
    try:
        written.append(f"report {report(path).html}")
    except ReportError as e:
        call(notify, f"report: {e}", severity="warning", timeout=10)
    except Exception as e:  # noqa: BLE001
        call(notify, f"report failed: {e}", severity="error")
    if written:
        call(notify, "exported: " + ", ".join(written), timeout=8)
        for log in screen.query(RunLog):
            call(log.line, "exported " + ", ".join(written))
