"""Benchmarks: the engine against the seed's code path, observation costs, one process against a cluster."""
