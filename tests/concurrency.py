"""Racing real transactions: run calls in threads released together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from core.errors import Conflict


def race(calls: list[Callable[[], Any]], *, expected: type[BaseException] = Conflict) -> tuple[list, list, list]:
    """Run each call in its own thread, all released together by a barrier; each thread closes
    its own database connection. Returns (results, `expected` errors, other errors)."""
    barrier = threading.Barrier(len(calls))
    lock = threading.Lock()
    results, refused, errors = [], [], []

    def run(call):
        try:
            barrier.wait(timeout=30)
            value = call()
            with lock:
                results.append(value)
        except expected as exc:
            with lock:
                refused.append(exc)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return results, refused, errors
