"""Publishing the dashboard: asv publish, made self-contained for offline use."""
