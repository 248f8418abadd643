"""What a joint fit traded: of every candidate scored, how many met an FCD and a level bar at once, and the best FC r
among them beside the best r of any candidate.

A joint objective (FC + FCD + level) ranks candidates by a weighted sum, so its best candidate can have a fine loss and
miss one bar, while another candidate met both; and a search may never have found a point that meets them at all.
These counts answer "was the joint target reachable in what was searched?" from the search's own scores (one noise
seed each: a best-of-N, said so wherever it is shown). The bars are the published joint fit's (cuBNM: FCD KS 0.20)
and the level warning's (mean FC within 0.10 of the data's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

#: The FCD KS a joint fit should reach (cuBNM's published two-map and Yeo-7 fits: 0.17–0.20).
KS_BAR = 0.20
#: How far the model's mean FC may sit from the data's on the scored edges (also the fresh verdict's level warning).
LEVEL_BAR = 0.1


@dataclass(frozen=True, kw_only=True)
class Scored:
    """One candidate's search scores: FC r, FCD KS and level (|mean FC − the data's|; None without that term)."""

    evaluation: int
    fc_corr: float
    fcd_ks: float
    fc_level: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON: the evaluation and its three scores."""
        return {"evaluation": self.evaluation, "fc_corr": round(self.fc_corr, 6), "fcd_ks": round(self.fcd_ks, 6),
                "fc_level": None if self.fc_level is None else round(self.fc_level, 6)}


@dataclass(frozen=True, kw_only=True)
class Tradeoff:
    """Counts of a joint fit's candidates against the bars, the best r meeting them and the best r of any."""

    candidates: int  # candidates with an FC r and an FCD KS
    meeting: int  # of them, those with KS ≤ ks_bar (and level ≤ level_bar when the level is known)
    ks_bar: float
    level_bar: float | None  # None: the objective has no fc_level term, so the level was not judged
    best_meeting: Scored | None  # the highest r among those meeting the bars
    best_any: Scored  # the highest r of any candidate
    lowest_ks: Scored  # the candidate closest to the data's FCD

    def to_dict(self) -> dict[str, Any]:
        """JSON: the counts, the bars and the three candidates."""
        return {"candidates": self.candidates, "meeting": self.meeting, "ks_bar": self.ks_bar,
                "level_bar": self.level_bar,
                "best_meeting": None if self.best_meeting is None else self.best_meeting.to_dict(),
                "best_any": self.best_any.to_dict(), "lowest_ks": self.lowest_ks.to_dict()}


def scored(evaluation: int, fc_corr: float | None, terms: Mapping[str, float] | None) -> Scored | None:
    """A candidate's scores, or None when it lacks a finite FC r or FCD KS (an FC-only fit, a diverged candidate)."""
    terms = terms or {}
    ks, level = terms.get("fcd_ks"), terms.get("fc_level")
    if fc_corr is None or ks is None or not (math.isfinite(fc_corr) and math.isfinite(ks)):
        return None
    return Scored(evaluation=int(evaluation), fc_corr=float(fc_corr), fcd_ks=float(ks),
                  fc_level=None if level is None or not math.isfinite(level) else float(level))


def tradeoff(points: Iterable[Scored | None], *, ks_bar: float = KS_BAR,
             level_bar: float = LEVEL_BAR) -> Tradeoff | None:
    """The bars' counts over ``points`` (None entries skipped); None when no candidate has both an r and a KS."""
    pts = [p for p in points if p is not None]
    if not pts:
        return None
    judged_level = any(p.fc_level is not None for p in pts)

    def meets(p: Scored) -> bool:
        level_ok = not judged_level or (p.fc_level is not None and p.fc_level <= level_bar)
        return p.fcd_ks <= ks_bar and level_ok

    meeting = [p for p in pts if meets(p)]
    first_max = lambda ps: max(ps, key=lambda p: (p.fc_corr, -p.evaluation))  # noqa: E731 - ties: the earliest
    return Tradeoff(candidates=len(pts), meeting=len(meeting), ks_bar=ks_bar,
                    level_bar=level_bar if judged_level else None,
                    best_meeting=first_max(meeting) if meeting else None, best_any=first_max(pts),
                    lowest_ks=min(pts, key=lambda p: (p.fcd_ks, p.evaluation)))


def tradeoff_text(d: Mapping[str, Any] | None) -> str | None:
    """One line for a summary: how many candidates met the bars and the best r among them, beside the best r of any."""
    if not d:
        return None
    bars = f"FCD KS ≤ {d['ks_bar']:.2f}" + ("" if d.get("level_bar") is None else
                                              f" and mean FC within {d['level_bar']:.2f} of the data's")
    n, m = d["candidates"], d["meeting"]
    best, low = d["best_any"], d["lowest_ks"]
    head = f"{'none' if not m else m} of {n} candidates met {bars} (search scores, one seed each)"
    if not m:
        return (f"{head}; lowest KS {low['fcd_ks']:.2f} (r {low['fc_corr']:.3f}), best r {best['fc_corr']:.3f} "
                f"(KS {best['fcd_ks']:.2f})")
    bm = d["best_meeting"]
    text = f"{head}: best r among them {bm['fc_corr']:.3f} (#{bm['evaluation']})"
    if best["evaluation"] != bm["evaluation"]:
        text += f"; best r of any {best['fc_corr']:.3f}, KS {best['fcd_ks']:.2f}"
        if best.get("fc_level") is not None:
            text += f", level off by {best['fc_level']:.2f}"
    return text
