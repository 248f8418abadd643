"""Screenshots of the recommended fits as they finished: the app attached to a run directory (``wcfit-tui attach RUN``)
at 160×48 and 80×24, its fit tab with the fresh-noise verdict, the nulls and the warnings.

The runs are the ones ``scripts/verdict_fits.sh`` makes (the default ``bold`` preset on the bundled HCP data, the joint
``regional`` preset on Schaefer-100); README shows these pictures beside the numbers of its "Fit quality" table.
Usage: .venv/bin/python scripts/attach_screenshots.py RUN NAME [OUT_DIR]   (needs rsvg-convert)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from textual.widgets import TabbedContent  # noqa: E402

from screenshots import to_png, wait_for  # noqa: E402
from tui.app import WcfitApp  # noqa: E402


async def shoot(run: str, name: str, out: Path, size: tuple[int, int]) -> Path:
    """One PNG of the attached run's fit tab once its replay has reached the end."""
    app = WcfitApp(attach=run, probe_devices=False)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.screen.state in ("finished", "stopped", "failed"), 120, "the run's end")
        tabs = app.screen.query(TabbedContent)
        if tabs and tabs.first().active != "fit":
            tabs.first().active = "fit"
            await pilot.pause(0.6)
        app.clear_notifications()
        await pilot.pause(0.5)
        svg = out / f"{name}-{size[0]}x{size[1]}.svg"
        app.save_screenshot(filename=svg.name, path=str(out))
        to_png(svg, svg.with_suffix(".png"))
        svg.unlink()
        return svg.with_suffix(".png")


def main() -> None:
    """Shoot RUN as NAME at both sizes into OUT_DIR (default screenshots/)."""
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    run, name = sys.argv[1], sys.argv[2]
    out = Path(sys.argv[3]) if len(sys.argv) > 3 else ROOT / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    for size in ((160, 48), (80, 24)):
        print(asyncio.run(shoot(run, name, out, size)))


if __name__ == "__main__":
    main()
