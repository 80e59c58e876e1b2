"""Outbox throughput: emit N events, then drain them with a no-op subscriber and with signed HTTP
POSTs to a local receiver (another process). Prints one JSON line per figure.

    python bench/outbox.py [--events 100000] [--http-events 100000] [--subjects 1000]
"""

from __future__ import annotations

import argparse
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import Process

from _setup import report, scaled, setup


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _serve(port: int) -> None:
    ThreadingHTTPServer(("127.0.0.1", port), _Receiver).serve_forever()


def _reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE crm_sync_delivery, crm_sync_crmsyncitem, crm_sync_outboxevent, crm_sync_subscriber")
    _analyze()


def _analyze() -> None:
    """Fresh planner statistics, as autovacuum keeps them on a running system."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_sync_outboxevent")
        cursor.execute("ANALYZE crm_sync_delivery")


def _emit(count: int, subjects: int) -> float:
    from django.db import transaction

    from crm_sync.outbox import emit

    subject_ids = [uuid.uuid4() for _ in range(subjects)]
    user, program = str(uuid.uuid4()), str(uuid.uuid4())
    started = time.perf_counter()
    for start in range(0, count, 1000):
        with transaction.atomic():
            for i in range(start, min(start + 1000, count)):
                subject = subject_ids[i % subjects]
                emit(
                    event_type="enrollment.status_changed",
                    subject=("enrollment", subject),
                    payload={
                        "enrollment_id": str(subject),
                        "user_id": user,
                        "program_id": program,
                        "from_status": "active",
                        "to_status": "completed",
                        "reason": "bench",
                        "changed_at": "2026-11-21T10:00:00+00:00",
                    },
                    actor="bench",
                )
    return time.perf_counter() - started


BATCH = 1000


def _drain() -> tuple[float, dict]:
    from crm_sync.dispatcher import dispatch

    started = time.perf_counter()
    totals = dispatch(batch_size=BATCH, time_budget=3600)
    return time.perf_counter() - started, totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=scaled(100_000, 100))
    parser.add_argument("--http-events", type=int, default=scaled(100_000, 100))
    parser.add_argument("--subjects", type=int, default=scaled(1000, 10))
    args = parser.parse_args()
    setup()
    from crm_sync.adapters import Outcome, register_adapter
    from crm_sync.models import Delivery, Subscriber

    register_adapter("noop", lambda *a, **k: Outcome(status_code=200))

    _reset()
    seconds = _emit(args.events, args.subjects)
    report("outbox.emit", args.events, seconds)
    _analyze()
    Subscriber.objects.create(
        name="no-op", kind="noop", url="http://noop.invalid/", secret="whsec_x", event_types=["*"]
    )
    seconds, totals = _drain()
    assert totals["delivered"] == args.events == Delivery.objects.filter(status="succeeded").count(), totals
    report("outbox.drain.noop", args.events, seconds, target_rate=5000)

    port = 18000 + (uuid.uuid4().int % 1000)
    receiver = Process(target=_serve, args=(port,), daemon=True)
    receiver.start()
    time.sleep(0.5)
    try:
        _reset()
        _emit(args.http_events, args.subjects)
        _analyze()
        from crm_sync.signing import new_secret

        Subscriber.objects.create(
            name="local receiver",
            kind="webhook",
            url=f"http://127.0.0.1:{port}/hook",
            secret=new_secret(),
            event_types=["*"],
        )
        seconds, totals = _drain()
        assert totals["delivered"] == args.http_events, totals
        report("outbox.drain.http", args.http_events, seconds, baseline="outbox.drain.noop", ratio_of="rate")
    finally:
        receiver.terminate()
        _reset()


if __name__ == "__main__":
    main()
