"""Command-line tools around the asv results: checks, provenance and summary tables."""
