"""Figure reports of runs and studies: PNG (PDF, SVG) figures drawn with matplotlib and one self-contained HTML page.

``build_report(path, out, formats)`` draws a run's report — target and best model FC with their difference, model
against data FC on the scored edges, FCD matrices and distributions with KS, the search history with the baselines,
the verdict on fresh noise and held-out data, and the regional parameters of a regional fit — or a study's (the
per-subject table, each subject's r against structure alone, distributions over subjects). matplotlib is an
optional extra (``pip install 'wcfit-tui[report]'``); without it a ReportError says so in one line. Nothing here
prints or imports a front end; figures are drawn without pyplot, so a report can be made in a worker thread.
"""

from __future__ import annotations

from engine.report.build import PAGE, Report, build_report, report_run, report_study
from engine.report.canvas import FORMATS, INSTALL_HINT, ReportError, require_matplotlib

__all__ = ["FORMATS", "INSTALL_HINT", "PAGE", "Report", "ReportError", "build_report", "report_run", "report_study",
           "require_matplotlib"]
