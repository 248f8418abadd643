"""wcfit-tui: the Textual app, a view over the engine's events."""
