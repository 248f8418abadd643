"""Ray clusters: a batch objective whose candidates are scored by actors on a cluster's devices."""
