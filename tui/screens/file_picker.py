"""A modal file picker over a DirectoryTree that shows only folders and dataset files; a folder can be chosen too."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Label

from engine.data import formats


class DatasetTree(DirectoryTree):
    """Folders and dataset files only (hidden entries left out)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        suffixes = formats.suffixes()
        return [p for p in paths if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in suffixes)]


class FilePicker(ModalScreen[str | None]):
    """Pick a dataset file; dismisses with its path, or None on escape."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"),
                Binding("d", "choose_folder", "Use folder")]

    def __init__(self, root: str | Path = ".") -> None:
        super().__init__()
        self.root = Path(root).expanduser()

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(f"Pick a .msgpack/.npz/.mat/.zip dataset under {self.root} "
                        "(enter: choose, d: use the highlighted folder, esc: cancel)")
            yield DatasetTree(self.root, id="tree")

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(str(event.path))

    def action_choose_folder(self) -> None:
        """Dismiss with the highlighted folder (a dataset folder of tables), if a folder is highlighted."""
        node = self.query_one(DatasetTree).cursor_node
        path = getattr(getattr(node, "data", None), "path", None)
        if path is not None and Path(path).is_dir():
            self.dismiss(str(path))
