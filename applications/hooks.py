"""What other code plugs into applications from `AppConfig.ready()`.

Change listeners hear of every application created or moved to another status, inside the same
transaction: `fn(application)`. The coach registers one to keep the applicant's pursuit of the
application in step (coach state, deadline, progress time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from applications.models import Application

ChangeListener = Callable[["Application"], Any]

_listeners: list[ChangeListener] = []


def register_change_listener(fn: ChangeListener) -> None:
    if fn not in _listeners:
        _listeners.append(fn)


def unregister_change_listener(fn: ChangeListener) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


def application_changed(application: Application) -> None:
    for listener in _listeners:
        listener(application)
