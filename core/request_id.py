"""The request id: one short token that names a request in every log line it causes, including the
lines of the Celery tasks it queues.

The web side takes a caller's `X-Request-ID` when it is short and made of safe characters (a proxy or
load balancer usually sets one) or makes a new one, keeps it in a context variable while the request
runs and returns it on the response. Publishing a task copies the current id into the task message's
headers; the worker puts it back into the context variable for the task's run and clears it after.
`core.logging.RequestIdFilter` adds the current id to every log record.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token
from typing import Any

from django.core.signals import request_finished, request_started

REQUEST_ID_HEADER = "X-Request-ID"
# The key under which the id travels in a Celery message's headers.
TASK_HEADER = "request_id"
MAX_LENGTH = 64
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)
# Tokens of the task runs in progress in this process, by task id (reset on task_postrun).
_task_tokens: dict[str, Token] = {}


def get_request_id() -> str | None:
    """The id of the request (or task) being handled, or None outside of one."""
    return _current.get()


def set_request_id(value: str | None) -> Token:
    return _current.set(value)


def reset_request_id(token: Token) -> None:
    _current.reset(token)


def clean_request_id(value: Any) -> str | None:
    """The caller's id if it is acceptable (1-64 characters: letters, digits, `.`, `_`, `:`, `-`,
    starting with a letter or digit), else None: a log line never carries what a client made up
    beyond that."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > MAX_LENGTH or not _SAFE.match(value):
        return None
    return value


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Takes or makes the request id, exposes it as `request.request_id` and in the context variable
    while the request runs, and sets it on the response's `X-Request-ID` header. First in the
    middleware list, so everything after it (redirects, errors) carries the id.

    The id stays set until the request is finished (not only until the middleware returns): Django
    logs 4xx/5xx responses ("Not Found: ...") after the middleware chain."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        request.request_id = request_id
        _current.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _clear(**kwargs) -> None:
    _current.set(None)


# A new request never inherits the previous one's id in the same thread; a finished one drops it.
request_started.connect(_clear, weak=False, dispatch_uid="core.request_id.started")
request_finished.connect(_clear, weak=False, dispatch_uid="core.request_id.finished")


# --- Celery -----------------------------------------------------------------------------------


def _before_task_publish(sender=None, headers=None, **kwargs) -> None:
    """Copy the current id into the outgoing task message (a task queued by a task keeps it too)."""
    request_id = _current.get()
    if request_id and headers is not None and not headers.get(TASK_HEADER):
        headers[TASK_HEADER] = request_id


def _task_request_id(task) -> str | None:
    request = getattr(task, "request", None)
    if request is None:
        return None
    # Protocol 2 merges custom message headers into the task's request context.
    value = getattr(request, TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    return clean_request_id(value)


def _task_prerun(sender=None, task_id=None, task=None, **kwargs) -> None:
    """Restore the publisher's id for the task's run. A task run in place (eager) keeps the id of
    the code that called it when its message carried none."""
    request_id = _task_request_id(task)
    if request_id is None and getattr(getattr(task, "request", None), "is_eager", False):
        request_id = _current.get()
    if task_id is not None:
        _task_tokens[task_id] = _current.set(request_id)


def _task_postrun(sender=None, task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # set in another context (a thread pool): just clear
            _current.set(None)
    else:
        _current.set(None)


def install_celery_hooks() -> None:
    """Connect the publish/run signals (called once by the Celery app module)."""
    from celery import signals

    signals.before_task_publish.connect(_before_task_publish, weak=False, dispatch_uid="core.request_id.publish")
    signals.task_prerun.connect(_task_prerun, weak=False, dispatch_uid="core.request_id.prerun")
    signals.task_postrun.connect(_task_postrun, weak=False, dispatch_uid="core.request_id.postrun")
