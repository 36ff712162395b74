"""Release histories: numba's and torch's releases on asv's commit axis (docs/releases.md)."""
