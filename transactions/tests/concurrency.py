"""Run functions at the same moment in threads, each with its own database connection."""

import threading

from django.db import connections


def run_together(*functions, timeout: float = 120):
    """Start every function at once (a barrier); return their results or exceptions, in order."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except BaseException as exc:  # the caller asserts on it
            results[index] = exc
        finally:
            connections.close_all()  # this thread's own connections

    threads = [
        threading.Thread(target=runner, args=(i, f), daemon=True) for i, f in enumerate(functions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a thread did not finish"
    return results


def errors_in(results) -> list:
    return [r for r in results if isinstance(r, BaseException)]
