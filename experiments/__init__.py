"""One-off mechanism experiments, one file per section of report/mechanisms.md (README.md here
maps them). Each runs as `python -m tools check TOPIC` and uses the engine in tools/; nothing in
tools/ imports an experiment.
"""
