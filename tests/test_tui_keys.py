"""The app's keys pressed as a user presses them (``pilot.press``), not their actions called: F2, F3, F4 switch the
tabs, F12 opens the Runs screen, Ctrl+O the file picker (whose choice fills the form's dataset), Ctrl+Q quits."""

from __future__ import annotations

import pytest

from tests.support import aio, fake_fit, tiny_npz, wait_for
from tui.app import WcfitApp


@aio
async def test_f2_f3_f4_switch_the_tabs(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.screen.query_one("#form").dataset is not None)
        tabs = app.screen.query_one("#tabs")
        assert tabs.active == "setup"
        for key, tab in (("f3", "fit"), ("f4", "candidates"), ("f2", "setup"), ("f4", "candidates"), ("f3", "fit")):
            await pilot.press(key)
            await wait_for(pilot, lambda: tabs.active == tab)


@aio
async def test_f12_opens_the_runs_screen_listing_the_runs_here(tmp_path, monkeypatch: pytest.MonkeyPatch):
    from tui.screens.main import MainScreen
    from tui.screens.runs import RunsScreen
    from tui.widgets.runs_table import RunsTable

    fake_fit(tiny_npz(tmp_path), tmp_path / "wcfit-runs", "one")  # the app's default runs folder, under the cwd
    monkeypatch.chdir(tmp_path)
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.screen.query_one("#form").dataset is not None)
        await pilot.press("f12")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        await wait_for(pilot, lambda: app.screen.query_one(RunsTable).row_count == 1)
        assert [r.name for r in app.screen.query_one(RunsTable).runs] == ["one"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))


@aio
async def test_ctrl_o_picks_a_dataset_file_into_the_form(tmp_path, monkeypatch: pytest.MonkeyPatch):
    from textual.widgets import Input

    from tui.screens.file_picker import DatasetTree, FilePicker
    from tui.screens.main import MainScreen

    path = tiny_npz(tmp_path)
    (tmp_path / "notes.txt").write_text("not a dataset")  # left out of the tree
    monkeypatch.chdir(tmp_path)
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        form = app.screen.query_one("#form")
        await wait_for(pilot, lambda: form.dataset is not None)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, FilePicker))
        tree = app.screen.query_one(DatasetTree)
        await wait_for(pilot, lambda: len(tree.root.children) == 1)  # tiny.npz only
        tree.focus()
        await pilot.press("down", "enter")  # the root, then its one file: chosen
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await wait_for(pilot, lambda: app.screen.query_one("#data", Input).value == str(path))
        await wait_for(pilot, lambda: form.dataset is not None and form.dataset.n_nodes == 6)  # loaded, 6 regions
        await pilot.press("ctrl+o", "escape")  # opened and cancelled: the form keeps its dataset
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        assert app.screen.query_one("#data", Input).value == str(path)


@aio
async def test_ctrl_q_quits_from_the_setup_form():
    app = WcfitApp(probe_devices=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.screen.query_one("#form").dataset is not None)
        app.screen.query_one("#budget").focus()  # typing in an input: Ctrl+Q still quits (a priority binding)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 0
