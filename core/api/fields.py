"""Serializer fields the API shares."""

from __future__ import annotations

import contextlib

from django.utils import timezone as dj_timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers


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
