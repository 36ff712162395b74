"""The one timer of the project's own measurements (release pairs, the calibration's injected
work, the bandwidth tables): batches of calls, sized like timeit's autorange. asv times the
suite itself; the timeit check (tools/run/timeit_check.py) deliberately uses the standard
library's timeit instead, as the independent reference it checks asv against."""
import time


def batch_seconds(run, number):
    """Seconds per call of one batch of `number` calls."""
    start = time.perf_counter()
    for _ in range(number):
        run()
    return (time.perf_counter() - start) / number


def autorange(run, min_seconds=0.01, factor=2, limit=None):
    """The smallest power of `factor` calls whose batch lasts at least `min_seconds` (at most
    `limit` calls), as timeit's autorange."""
    number = 1
    while batch_seconds(run, number) * number < min_seconds and (limit is None or number < limit):
        number *= factor
    return number


def measure_batches(run, batches, min_seconds=0.01, warm_up_seconds=0.0):
    """([seconds per call of each batch], calls per batch): autorange, then `warm_up_seconds`
    of calls untimed, then `batches` timed batches."""
    number = autorange(run, min_seconds)
    deadline = time.perf_counter() + warm_up_seconds
    while time.perf_counter() < deadline:
        run()
    return [batch_seconds(run, number) for _ in range(batches)], number
