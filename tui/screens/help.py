"""The help screen: every key binding and what the panels show."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# wcfit-tui — keys

| key | action |
|---|---|
| **F5** | start the fit with the setup form's settings |
| **F6** | stop the fit (within one batch; results so far stay) |
| **Ctrl+R** | reset: clear results and go back to the setup |
| **F7** | export the run (candidates CSV, summary JSON, FCs NPZ, labelled best FC CSV) and its figure report (HTML page and PNGs, `export/report/`) into its run directory |
| **F8** | next plot view: loss vs evaluation, then each fitted parameter vs loss |
| **F2 / F3 / F4 / F9** | Setup / Fit / Candidates / Log tab |
| **F10** | FC tab (narrow terminals, where the heatmaps leave the Fit tab) |
| **F11 / Ctrl+L** | Landscape tab: the loss over the fitted parameters |
| **Ctrl+T** | next quantity on the loss plot and the landscape: the loss, then each objective term |
| **Ctrl+B** | FCD/BOLD tab: model and data FCD, their distributions and KS, BOLD of three regions (`[` `]` move them) |
| **Ctrl+N** | Explore tab: p form point · b best · c candidate row · ↑↓ parameter · ←→ step · shift+←→ fine · enter type · d 60 s |
| **Ctrl+F** | fit from the explored point (the optimizer asks it first; bounds kept) |
| **F8** (Landscape tab) | next pair of fitted parameters (more than two fitted) |
| **F12** | Runs screen: enter opens a run (live or replay), F5 resumes a stopped one, space marks, c compares, r refreshes, Esc back |
| **Esc** | (a run opened from the Runs screen) back to the Runs screen |
| **Ctrl+O** | pick a dataset: a .msgpack / .npz / .mat / .zip file, or a folder (d) |
| **s** | (in the table) sort by the next column; click a header to sort by it |
| **Ctrl+P** | command palette (start, stop, reset, export, themes) |
| **F1** | this help |
| **Ctrl+Q** | quit |

Tab / Shift+Tab move between inputs. Invalid settings show their reason under the form
and in the status line, and F5 refuses to start until they are fixed.

The **Fit** tab shows each candidate's loss (1 − FC correlation) and the best so far, and the
target FC, best model FC and their difference. **Candidates** lists every evaluated candidate,
best first (with a column per objective term when the run scores several). **Log** has run events,
warnings and errors. The dashed **structure alone** line on the loss plot is 1 − r of the structural
connectivity itself against the target FC: a fit should end below it.

**Landscape**: a Grid over two parameters fills a heatmap cell by cell as batches arrive (the lowest
loss red, the highest blue, X the best cell, ! a diverged one, blank not scored yet; an ASCII ramp
from @ to . without colour); over one parameter a line through the points; other optimizers show
their evaluated points over two fitted parameters, each cell the lowest loss of the points in it.

Headless use: `wcfit-tui fit|info|bench|runs|resume|export …`; follow a running fit with
`wcfit-tui attach RUN_DIR`.
"""


class HelpScreen(ModalScreen[None]):
    """Lists the keys; any of escape, F1, q closes it."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)
