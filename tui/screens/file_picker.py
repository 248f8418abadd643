"""A modal file picker over a DirectoryTree that shows only folders and .msgpack/.npz files."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Label

SUFFIXES = (".msgpack", ".npz")


class DatasetTree(DirectoryTree):
    """Folders and dataset files only (hidden entries left out)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in SUFFIXES)]


class FilePicker(ModalScreen[str | None]):
    """Pick a dataset file; dismisses with its path, or None on escape."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, root: str | Path = ".") -> None:
        super().__init__()
        self.root = Path(root).expanduser()

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(f"Pick a .msgpack or .npz dataset under {self.root} (enter: choose, esc: cancel)")
            yield DatasetTree(self.root, id="tree")

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(str(event.path))
