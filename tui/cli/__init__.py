"""The command line: one parser for every subcommand, the only code that prints summaries and sets exit codes."""
