"""The report's HTML page: one self-contained file (images embedded as base64, no external resources)."""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1320px;
       padding: 0 1.5em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 2em;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.sub { color: #666; margin-top: 0; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; max-width: 70em; }
figcaption .file { color: #888; font-family: ui-monospace, monospace; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f6f6f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.facts td:first-child { color: #555; white-space: nowrap; }
.warn { color: #8a5a00; } pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
.wide { overflow-x: auto; }
"""


@dataclass(frozen=True, kw_only=True)
class Section:
    """One figure on the page: its title, caption, PNG bytes and the file it was written to."""

    title: str
    caption: str
    png: bytes
    file: str


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f'<td class="num">{v:.6g}</td>'
    if isinstance(v, int) and not isinstance(v, bool):
        return f'<td class="num">{v}</td>'
    return f"<td>{html.escape('' if v is None else str(v))}</td>"


def table(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """An HTML table of ``rows`` (dicts) under ``columns``; floats to 6 significant digits."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(r.get(c)) for c in columns) + "</tr>" for r in rows)
    return f'<div class="wide"><table><tr>{head}</tr>{body}</table></div>'


def facts(pairs: Sequence[tuple[str, Any]]) -> str:
    """A two-column table of labelled facts."""
    rows = "".join(f"<tr><td>{html.escape(k)}</td>{_cell(v)}</tr>" for k, v in pairs)
    return f'<table class="facts">{rows}</table>'


def _figure(s: Section) -> str:
    data = base64.b64encode(s.png).decode("ascii")
    return (f"<h2>{html.escape(s.title)}</h2>\n<figure><img alt=\"{html.escape(s.title)}\" "
            f"src=\"data:image/png;base64,{data}\">\n<figcaption>{html.escape(s.caption)} "
            f"<span class=\"file\">({html.escape(s.file)})</span></figcaption></figure>")


def page(*, title: str, subtitle: str, summary: str, sections: Sequence[Section], extra: Sequence[tuple[str, str]],
         settings: Mapping[str, Any], warnings: Sequence[str]) -> str:
    """The whole page: title, the key facts, every figure, extra HTML blocks, warnings and the full settings."""
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><p class=\"sub\">{html.escape(subtitle)}</p>", summary]
    for heading, block in extra[:1]:
        parts.append(f"<h2>{html.escape(heading)}</h2>{block}")
    parts.extend(_figure(s) for s in sections)
    for heading, block in extra[1:]:
        parts.append(f"<h2>{html.escape(heading)}</h2>{block}")
    if warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in dict.fromkeys(warnings))
        parts.append(f"<h2>Warnings</h2><ul class=\"warn\">{items}</ul>")
    parts.append("<h2>Settings</h2><p>The run's full configuration (config.json): with the data fingerprint above "
                 "and the versions, what reproduces every number on this page.</p>"
                 f"<pre>{html.escape(json.dumps(settings, indent=2, sort_keys=True))}</pre>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
