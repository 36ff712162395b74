"""Release histories: numba's and torch's releases on asv's commit axis (history/README.md)."""
