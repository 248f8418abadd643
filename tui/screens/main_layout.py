"""How the main screen arranges its panels for the terminal's size: stacked and tabbed when narrow, a dashboard when
wide."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer, TabbedContent

from tui.widgets.fc_heatmap import GAP, FCHeatmaps

if TYPE_CHECKING:
    from textual.screen import Screen

#: Below this width or height the panels stack instead of sitting side by side.
WIDE_MIN = (120, 36)


def arrange(screen: Screen, width: int, height: int) -> None:
    """Size the Fit tab's panels for ``width`` × ``height``; narrow terminals get the FC tab, wide ones hide it."""
    narrow = width < WIDE_MIN[0] or height < WIDE_MIN[1]
    screen.set_class(narrow, "narrow")
    screen.query_one(Footer).compact = narrow  # 80 columns: every key keeps its label, F1 Help the last
    top, heat = dashboard_sizes(width, height)
    panels, heatmaps = screen.query_one("#fit-panels"), screen.query_one("#heatmaps", FCHeatmaps)
    tabs = screen.query_one(TabbedContent)
    if narrow:
        panels.styles.height, heatmaps.styles.width = None, None
        # FC tab: as tall as the three square images need (half blocks: a side of pw columns is pw/2 rows)
        pw = (width - 2 - 2 * GAP) // 3  # inside the border
        screen.query_one("#fcmaps", FCHeatmaps).styles.height = max(4, min(height - 5, pw // 2 + 4))
        tabs.show_tab("fc")
    else:
        panels.styles.height, heatmaps.styles.width = top, heat
        if tabs.active == "fc":
            tabs.active = "fit"
        tabs.hide_tab("fc")


def dashboard_sizes(width: int, height: int) -> tuple[int, int]:
    """Wide dashboard: height of the plot/heatmap row and width of the heatmap panel.

    The heatmaps get at most ~60 % of the width; their three square images (half blocks: one cell is
    one column wide and half a row high) set the row's height; the rest goes to the bottom row."""
    avail = height - 5  # header, tabs (2), status bar, footer
    pw = (int(width * 0.6) - 2 - 2 * GAP) // 3
    rows = max(6, min(pw // 2, int(avail * 0.6) - 4))
    return rows + 4, 3 * 2 * rows + 2 * GAP + 2  # + border (2) + title + colour bar
