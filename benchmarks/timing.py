"""The one timer of the project's own measurements (release pairs, the calibration's injected
work, the bandwidth tables): batches of calls, sized like timeit's autorange. asv times the
suite itself; the timeit check (checks/timeit_agreement.py) deliberately uses the standard
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


def measure_batches(run, batches, min_seconds=0.01, warm_up_seconds=0.0, min_batches=None,
                    max_seconds=None):
    """([seconds per call of each batch], calls per batch): autorange, then `warm_up_seconds`
    of calls untimed, then `batches` timed batches; with `max_seconds`, batches stop once that
    much time was spent timing and `min_batches` were taken (a 1-second call gets 3 batches,
    not 7, as asv's repeat=(min, max, max_time))."""
    number = autorange(run, min_seconds)
    deadline = time.perf_counter() + warm_up_seconds
    while time.perf_counter() < deadline:
        run()
    samples = []
    start = time.perf_counter()
    while len(samples) < batches:
        samples.append(batch_seconds(run, number))
        if (max_seconds is not None and len(samples) >= (min_batches or 1)
                and time.perf_counter() - start >= max_seconds):
            break
    return samples, number
