"""Spread independent per-item work over the machine's cores, with results in input order.

Workers are forked after everything they need is built (name index, autolinker,
compiled templates), so nothing is sent to them but a range of item numbers, and
only plain results come back. The output is the same as a single-process run:
each item is computed by the same code from the same data, and results are put
back in order. Where fork is unavailable, or the work is small, it runs inline.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Callable

MIN_ITEMS = 200  # below this, starting processes costs more than it saves
_task: Callable[[int], object] | None = None


def default_workers() -> int:
    import multiprocessing  # imported here, not above: a build that renders a page or two never needs it

    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1  # fork is only safe and cheap on Linux
    return max(1, min(os.cpu_count() or 1, 8))


def _plain(items, label):
    return items


def run(task: Callable[[int], object], count: int, workers: int = 1, progress=_plain) -> list:
    """[task(0), ..., task(count - 1)], computed by up to `workers` processes.

    progress(iterable, label) may wrap the work to show how far it is.
    """
    global _task
    if workers <= 1 or count < MIN_ITEMS:
        return [task(i) for i in progress(range(count), "Rendering")]
    import multiprocessing

    chunk = max(1, -(-count // (workers * 4)))
    ranges = [(start, min(start + chunk, count)) for start in range(0, count, chunk)]
    _task = task
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=_quiet_worker) as pool:
            parts = list(progress(pool.imap(_run_range, ranges), "Rendering"))
    finally:
        _task = None
    return [result for part in parts for result in part]


def _quiet_worker() -> None:
    """Workers leave Ctrl-C and SIGTERM to the parent, which stops the pool and cleans up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run_range(bounds: tuple[int, int]) -> list:
    return [_task(i) for i in range(*bounds)]
