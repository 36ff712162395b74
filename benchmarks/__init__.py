"""asv benchmarks: the seed notebook's experiments (sum, axis sum, GELU) as asv classes."""
