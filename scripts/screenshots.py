"""Render screenshots/*.png (idle, running, finished at 160×48 and 80×24) from the app's own SVG screenshots.

Drives the real app with pilot and deterministic synthetic events (tui.demo), saves each screen with
``save_screenshot`` and converts it with rsvg-convert (apt-get install librsvg2-bin fonts-dejavu-core).
Usage: .venv/bin/python scripts/screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data import load_dataset  # noqa: E402
from tui.app import WcfitApp  # noqa: E402
from tui.demo import synthetic_run  # noqa: E402


def to_png(svg: Path, png: Path) -> None:
    """SVG → PNG; rsvg keeps leading non-breaking spaces only with xml:space="preserve"."""
    text = svg.read_text().replace("<svg ", '<svg xml:space="preserve" ', 1)
    svg.write_text(text)
    subprocess.run(["rsvg-convert", str(svg), "-o", str(png)], check=True)


async def shoot(out: Path, size: tuple[int, int]) -> list[Path]:
    target = load_dataset(None).target_fc
    events = synthetic_run(target, batches=12, batch=4)
    tag = f"{size[0]}x{size[1]}"
    made = []
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=size) as pilot:
        form = app.screen.query_one("#form")
        while form.dataset is None:
            await pilot.pause(0.05)
        await pilot.pause()

        async def save(name: str) -> None:
            app.clear_notifications()
            await pilot.pause()
            svg = out / f"{name}-{tag}.svg"
            app.save_screenshot(filename=svg.name, path=str(out))
            to_png(svg, svg.with_suffix(".png"))
            svg.unlink()
            made.append(svg.with_suffix(".png"))

        await save("idle")
        cut = next(i for i, e in enumerate(events) if getattr(e, "batch_index", -1) == 6)  # half way
        app.screen._set_state("running", "DE on hcp80 (bundled)")
        for e in events[:cut]:
            app.screen.show_event(e)
        app.screen.query_one("#tabs").active = "fit"
        await save("running")
        for e in events[cut:]:
            app.screen.show_event(e)
        await save("finished")
        app.screen.query_one("#tabs").active = "candidates"
        await save("candidates")
        app.screen.query_one("#tabs").active = "log"
        await save("log")
    return made


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(map(int, a.split("x"))) for a in sys.argv[2:]] or [(160, 48), (80, 24)]
    if len(sizes) > 1:  # one app per process: Textual/plotext keep per-process state between apps
        for w, h in sizes:
            subprocess.run([sys.executable, __file__, str(out), f"{w}x{h}"], check=True)
        return
    for p in asyncio.run(shoot(out, sizes[0])):
        print(p)


if __name__ == "__main__":
    main()
