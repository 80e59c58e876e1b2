"""The request id: taken from `X-Request-ID` when it is safe or made up, returned on the response,
added to every log record, and carried into the Celery tasks a request queues (in place and through
a real worker)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from kombu import Exchange, Queue

from config.celery import app
from core.logging import JsonFormatter, RequestIdFilter
from core.request_id import RequestIdMiddleware, clean_request_id, get_request_id, set_request_id
from core.tasks import run_job_task

HEX32 = re.compile(r"^[0-9a-f]{32}$")
task_logger = logging.getLogger("tests.request_id")


@app.task(name="tests.core.log_request_id")
def log_request_id_task() -> str | None:
    task_logger.info("inside the task")
    return get_request_id()


@pytest.fixture
def records(caplog):
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())
    return caplog


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("abc-123", "abc-123"),
        ("  Req.42:7_x  ", "Req.42:7_x"),
        ("a" * 64, "a" * 64),
        ("a" * 65, None),
        ("has space", None),
        ("<script>", None),
        ("-leading-dash", None),
        ("", None),
        (None, None),
    ],
)
def test_clean_request_id(given, expected):
    assert clean_request_id(given) == expected


@pytest.mark.django_db
def test_a_safe_id_is_kept_and_returned(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="lb-7f3a.01")
    assert response["X-Request-ID"] == "lb-7f3a.01"


@pytest.mark.django_db
@pytest.mark.parametrize("given", [None, "x" * 65, "bad id\n"])
def test_a_missing_or_unsafe_id_is_replaced(client, given):
    headers = {} if given is None else {"HTTP_X_REQUEST_ID": given}
    response = client.get("/health", **headers)
    assert HEX32.match(response["X-Request-ID"])


@pytest.mark.django_db
def test_each_request_gets_its_own_id(client):
    first, second = client.get("/health")["X-Request-ID"], client.get("/health")["X-Request-ID"]
    assert first != second
    assert get_request_id() is None  # a finished request leaves nothing behind


@pytest.mark.django_db
def test_the_id_is_on_the_log_records_of_the_request(client, records):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404-check")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-404-check"
    # Django logs "Not Found" after the middleware chain: the id is still there.
    [record] = [r for r in records.records if r.name == "django.request"]
    assert (record.getMessage(), record.request_id) == ("Not Found: /no-such-page/", "req-404-check")


def test_the_configured_handlers_add_the_id():
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["request_id"]
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, RequestIdFilter) for h in handlers for f in h.filters)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "outside", (), None)
    RequestIdFilter().filter(record)
    assert record.request_id == "-"


def test_the_json_formatter_writes_one_object_per_line():
    record = logging.LogRecord("platform.test", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.created = 1767225600.5  # 2026-01-01T00:00:00.5Z
    record.request_id = "abc-1"
    record.job = "crm_dispatch"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2026-01-01T00:00:00.500+00:00",
        "level": "WARNING",
        "logger": "platform.test",
        "message": "hello world",
        "request_id": "abc-1",
        "job": "crm_dispatch",
    }


def test_the_json_formatter_includes_the_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    data = json.loads(JsonFormatter().format(record))
    assert data["request_id"] == "-"
    assert data["exc_info"].startswith("Traceback") and data["exc_info"].endswith("ValueError: boom")


# --- Celery -------------------------------------------------------------------------------------


def _handle(view, request_id: str):
    """Run `view` behind the middleware, as a request would (the end of the request clears the id)."""
    request = RequestFactory().get("/anything", HTTP_X_REQUEST_ID=request_id)
    try:
        return RequestIdMiddleware(view)(request)
    finally:
        set_request_id(None)


def test_a_task_run_in_place_during_a_request_logs_the_request_id(records):
    seen = {}

    def view(request):
        seen["result"] = log_request_id_task.apply().get()
        return HttpResponse()

    response = _handle(view, "req-eager-1")
    assert response["X-Request-ID"] == "req-eager-1"
    assert seen["result"] == "req-eager-1"
    [record] = [r for r in records.records if r.name == "tests.request_id"]
    assert record.request_id == "req-eager-1"


def test_a_task_message_carries_the_id_and_the_run_restores_it(records):
    set_request_id("req-from-header")
    try:
        published = {}

        def capture(sender=None, headers=None, **kwargs):
            published.update(headers or {})

        from celery.signals import before_task_publish

        before_task_publish.connect(capture)
        queue = f"test-request-id-{uuid.uuid4().hex[:12]}"
        try:
            log_request_id_task.apply_async(queue=queue)
        finally:
            before_task_publish.disconnect(capture)
            with app.connection_for_write() as conn:
                bound = Queue(queue, Exchange(queue, type="direct"), routing_key=queue)(conn.default_channel)
                bound.declare()
                bound.delete()
        assert published["request_id"] == "req-from-header"
    finally:
        set_request_id(None)
    # Run as the worker does, from a message with that header and no id in the context.
    assert get_request_id() is None
    assert log_request_id_task.apply(headers={"request_id": "req-from-header"}).get() == "req-from-header"
    assert get_request_id() is None  # cleared after the run
    [record] = [r for r in records.records if r.name == "tests.request_id"]
    assert record.request_id == "req-from-header"


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


def _wait_for(condition, seconds: float, what: str, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n--- worker log ---\n{log.read_text()[-4000:]}")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_logs_the_id_of_the_request_that_queued_the_task(tmp_path):
    queue = f"test-request-id-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    base = Path(settings.BASE_DIR)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(base / ".venv" / "bin" / "celery"),
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=base, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: process.poll() is None and " ready." in log.read_text(), 60, "the worker", log)

        def view(request):
            run_job_task.apply_async(("notification_dispatch", "manual"), queue=queue)
            return HttpResponse()

        assert _handle(view, "req-worker-42")["X-Request-ID"] == "req-worker-42"

        def lines() -> list[dict]:
            out = []
            for line in log.read_text().splitlines():
                if line.startswith("{"):
                    out.append(json.loads(line))
            return out

        def succeeded() -> list[dict]:
            return [r for r in lines() if "core.run_job" in r["message"] and "succeeded" in r["message"]]

        _wait_for(succeeded, 30, "the task to run", log)
        [done] = succeeded()
        assert (done["logger"], done["request_id"]) == ("celery.app.trace", "req-worker-42")
        # The worker's own start-up lines belong to no request.
        [ready] = [r for r in lines() if r["message"].endswith(" ready.")]
        assert ready["request_id"] == "-"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        with app.connection_for_write() as conn:
            bound = Queue(queue, Exchange(queue, type="direct"), routing_key=queue)(conn.default_channel)
            bound.declare()
            bound.delete()
