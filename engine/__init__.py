"""wcfit engine: data, model, objective, search and runs; no Textual."""
