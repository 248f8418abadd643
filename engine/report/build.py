"""Building a report: the figures of a run or a study, written as PNG (PDF, SVG) beside one self-contained HTML page."""

from __future__ import annotations

import datetime as _dt
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from engine.data.edges import EdgeError, dataset_edges
from engine.report import fc_figures, fcd_figures, history_figures, regional_figures, study_figures, verdict_figures
from engine.report.canvas import Drawn, ReportError, parse_formats, require_matplotlib, save
from engine.report.page import Section, facts, page, table
from engine.report.regions import region_order
from engine.report.source import RunData, is_run, load_run
from engine.runs.export import export_path
from engine.runs.layout import resolve_run

#: The page's file name inside the report folder.
PAGE = "report.html"
#: Packages whose versions the page prints.
PACKAGES = ("wcfit-tui", "jax", "numpy", "scipy", "nevergrad", "brainmass", "matplotlib")


@dataclass(frozen=True, kw_only=True)
class Report:
    """What a report wrote: the page and every figure file."""

    html: Path
    figures: tuple[Path, ...]


def versions() -> list[tuple[str, str]]:
    """(package, version) of Python and the packages behind the numbers and figures."""
    out = [("Python", platform.python_version())]
    for name in PACKAGES:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return out


def _when(t: Any) -> str:
    try:
        return _dt.datetime.fromtimestamp(float(t)).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OSError):
        return "—"


def run_figures(run: RunData) -> list[Drawn]:
    """Every figure of a run's report, in page order."""
    order = region_order(run.dataset)
    try:
        edges = dataset_edges(run.config.edges, run.dataset)
    except EdgeError:
        edges = None
    summary = run.summary
    fcd_ks = (summary.get("terms") or {}).get("fcd_ks")
    drawn = [fc_figures.fc_matrices(run.target, run.model, order, edges_name=run.config.edges),
             fc_figures.fc_scatter(run.target, run.model, edges, edges_name=run.config.edges),
             fcd_figures.fcd_figure(run.config, run.dataset, run.best_signal, fcd_ks),
             history_figures.history(run.rows, summary, run.config.objective, run.config.edges),
             verdict_figures.verdict(summary)]
    best = run.best
    if best is not None:
        values = regional_figures.regional_values(run.config, run.dataset, best["params"])
        if values:
            drawn.append(regional_figures.regional_figure(values, order, best["params"]))
    return drawn


def run_facts(run: RunData) -> list[tuple[str, Any]]:
    """The page's key facts of a run: outcome, data fingerprint, seed, device and versions."""
    s, best, info = run.summary, run.best, run.info
    names = run.config.names
    out: list[tuple[str, Any]] = [
        ("status", f"{run.status.get('status', '?')} ({run.status.get('reason') or s.get('reason') or '—'})"),
        ("best parameters", ", ".join(f"{n} = {float(best['params'][n]):.6g}" for n in names) if best else "—"),
        ("best loss", None if best is None else float(best["loss"])),
        ("FC correlation r", s.get("fc_corr") if s else (best or {}).get("fc_corr")),
        ("structure alone r", s.get("structural_baseline")),
        ("objective · edges", f"{run.config.objective} · {run.config.edges}"),
        ("evaluations", f"{len(run.rows)} of {run.config.budget} ({run.config.optimizer}, batch {run.config.batch})"),
        ("seed · noise stream", f"{run.config.seed} · {run.marker.get('noise_stream', '—')}"),
        ("dataset", f"{info.get('name', '?')} (source {info.get('source') or '—'}), N = {info.get('n_nodes', '?')}, "
                    f"{info.get('n_scans', 0)} scan(s) × {info.get('n_timepoints', 0)} TRs, TR {info.get('tr_s')} s"),
        ("data fingerprint", f"SHA-256 of the target FC: {info.get('target_fc_sha256', '—')}"),
        ("device · wall time", f"{s.get('device') or run.status.get('device') or '—'} · "
                               f"{float(s.get('wall_s') or 0):.1f} s"),
        ("started", _when(run.status.get("started") or run.status.get("created"))),
    ]
    return out + [(f"version: {k}", v) for k, v in versions()]


def _write(drawn: Sequence[Drawn], folder: Path, formats: tuple[str, ...]) -> tuple[list[Section], list[Path]]:
    sections, files = [], []
    for d in drawn:
        png, written = save(d, folder, formats)
        sections.append(Section(title=d.title, caption=d.caption, png=png, file=written[0].name))
        files.extend(written)
    return sections, files


def _folder(source: Path, out: str | Path | None) -> Path:
    folder = Path(out).expanduser() if out else export_path(source, None, "report")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ReportError(f"cannot write the report to {folder}: {e.strerror or e}") from None
    return folder


def report_run(path: str | Path, out: str | Path | None = None, formats: Sequence[str] = ("png",)) -> Report:
    """Draw a run's report into ``out`` (default RUN/export/report/): report.html and each figure's files."""
    require_matplotlib()
    run = load_run(resolve_run(path))
    folder = _folder(run.path, out)
    sections, files = _write(run_figures(run), folder, tuple(formats))
    doc = page(title=f"wcfit-tui report: {run.name}", subtitle=f"{run.path.resolve()} · made {_when(_now())}",
               summary=facts(run_facts(run)), sections=sections, extra=(),
               settings=run.config.to_dict(), warnings=run.warnings + list(run.summary.get("warnings") or ()))
    dest = folder / PAGE
    dest.write_text(doc, encoding="utf-8")
    return Report(html=dest, figures=tuple(files))


def report_study(path: str | Path, out: str | Path | None = None, formats: Sequence[str] = ("png",)) -> Report:
    """Draw a study's report: the per-subject table, each subject's r against structure alone, distributions."""
    from engine.study.export import export_rows
    from engine.study.manifest import load_study

    require_matplotlib()
    p = Path(path).expanduser()
    manifest, config, subjects = load_study(p)
    columns, rows = export_rows(p)
    folder = _folder(p, out)
    shown = ["loss", "fc_corr", "structural_baseline", *(["test_fc_corr"] if config.split or config.test_data else []),
             *config.names]
    drawn = [study_figures.subject_scores(rows), study_figures.distributions(rows, shown)]
    sections, files = _write(drawn, folder, tuple(formats))
    done = sum(1 for r in rows if r.get("status") == "finished")
    key = [("subjects", f"{len(subjects)} ({done} finished), one per {manifest.get('per', 'scan')}"),
           ("dataset", f"{manifest.get('dataset', '?')} (source {manifest.get('data') or 'bundled'})"),
           ("objective · edges", f"{config.objective} · {config.edges}"),
           ("budget · optimizer", f"{config.budget} evaluations per subject, {config.optimizer}, batch {config.batch}"),
           ("seed", config.seed), ("created", _when(manifest.get("created")))]
    table_cols = [c for c in columns if c not in ("run", "scans", "budget")]
    doc = page(title=f"wcfit-tui study report: {p.name}", subtitle=f"{p.resolve()} · made {_when(_now())}",
               summary=facts(key + [(f"version: {k}", v) for k, v in versions()]), sections=sections,
               extra=[("Subjects", table(table_cols, rows))], settings=config.to_dict(), warnings=())
    dest = folder / PAGE
    dest.write_text(doc, encoding="utf-8")
    return Report(html=dest, figures=tuple(files))


def build_report(path: str | Path, out: str | Path | None = None, formats: str | None = None) -> Report:
    """The report of a run or a study at ``path`` (a directory, or a run's name under ./wcfit-runs)."""
    from engine.study.manifest import is_study

    fmts = parse_formats(formats)
    if is_study(path):
        return report_study(path, out, fmts)
    run = resolve_run(path)
    if not is_run(run):
        raise ReportError(f"{run} is neither a run directory nor a study")
    return report_run(run, out, fmts)


def _now() -> float:
    return time.time()
