"""The setup form's fresh-noise seeds (``fit --fresh R``): read, validated and filled by a preset like the other
whole-number fields."""

from __future__ import annotations


def test_setup_form_reads_and_checks_the_fresh_seeds() -> None:
    import asyncio

    from textual.app import App

    from engine.settings import config_from_settings
    from tui.widgets.setup_form import SetupForm

    class Host(App):
        def compose(self):  # type: ignore[no-untyped-def]
            yield SetupForm("bundled")

    async def run() -> None:
        app = Host()
        async with app.run_test(size=(120, 60)) as pilot:
            form = app.query_one(SetupForm)
            for _ in range(50):
                await pilot.pause(0.1)
                if form.dataset is not None:
                    break
            fresh = app.query_one("#fresh_seeds")
            assert fresh.value == "4" and form.config is not None and form.config.fresh_seeds == 4
            fresh.value = "-1"
            await pilot.pause(0.2)
            assert form.config is None and form.problem is not None
            assert "fresh-noise seeds" in form.problem and "-1" in form.problem and "\n" not in form.problem
            fresh.value = "two"
            await pilot.pause(0.2)
            assert form.config is None and form.problem == "fresh: 'two' is not a whole number"
            fresh.value = "0"  # 0 skips the verdict, as --fresh 0 does
            await pilot.pause(0.2)
            assert form.config is not None and form.config.fresh_seeds == 0
            assert form.config == config_from_settings({"data": "bundled", "fresh_seeds": 0})
            form.apply_preset("regional")  # a preset fills the field with its value
            await pilot.pause(0.2)
            assert fresh.value == "4" and form.config is not None and form.config.fresh_seeds == 4

    asyncio.run(run())
