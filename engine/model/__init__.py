"""The model, its observation and its scores: network, hemodynamics, FC/FCD statistics, objective terms, target, the batch objective, simulate and the tutorial reference."""
