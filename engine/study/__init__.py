"""Studies: one recorded fit per subject, and the table of their results."""
