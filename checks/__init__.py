"""Checks of the instruments: what CI or a user re-runs to trust the numbers.

    calibration       the release comparison's false alarms and what it detects (A/A + injected)
    counts            instruction counts repeat in fresh processes and see a +2 % change
    drift             how far each case moves between full runs: the Regressions page's thresholds
    kill_safety       SIGKILL the main job at random moments: nothing measured is lost
    timeit_agreement  asv's medians against an independent timeit, paired by round

Each runs as `python -m tools check TOPIC` and uses the engine in tools/ (never the other way).
"""
