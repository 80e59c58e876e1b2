"""What the mentorship API modules share: tags, path lookups (404), body lookups (400 per field),
an offset-carrying datetime field and people's display names."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone as dj_timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from core.errors import NotFound
from mentorship.services.common import program_get
from programs.models import Program

ADMIN_TAGS = ["admin: mentorship"]
ME_TAGS = ["me: mentorship"]
REASON_MAX = 2000


def program_or_404(program_id: Any) -> Program:
    """The program in the path; an unknown one answers 404."""
    return program_get(program_id)


def users_by_id(ids: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Resolve `{field: user_id}` in one query; an unknown id adds `errors[field]`."""
    wanted = {name: pk for name, pk in ids.items() if pk is not None}
    found = get_user_model().objects.in_bulk(list(set(wanted.values())))
    users: dict[str, Any] = {}
    for name, pk in wanted.items():
        user = found.get(pk)
        if user is None:
            errors[name] = f"No user with the id {pk}."
        else:
            users[name] = user
    return users


def person_name(user: Any) -> str:
    return user.get_full_name() if user is not None else ""


class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date and time that must carry its UTC offset: an instant is never guessed from
    the server's or the caller's zone."""

    default_error_messages = {"naive": "Give the time with its UTC offset (e.g. 2026-03-02T18:00:00+02:00)."}

    def to_internal_value(self, value):
        if isinstance(value, str):
            parsed = None
            with contextlib.suppress(ValueError):
                parsed = parse_datetime(value.strip())
            if parsed is not None and dj_timezone.is_naive(parsed):
                self.fail("naive")
        return super().to_internal_value(value)


def not_found(what: str, pk: Any, where: str = "") -> NotFound:
    return NotFound(f"No {what} with the id {pk}{where}.")
