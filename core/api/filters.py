"""Filters the API shares."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_filters.fields import IsoDateTimeField


class InstantField(IsoDateTimeField):
    """An ISO 8601 instant, compared in UTC: the database refuses offsets beyond +/-15:59 that
    ISO 8601 allows, and an instant near year 1 or 9999 may not exist in UTC at all."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and timezone.is_aware(value):
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                raise ValidationError("This instant is out of range.", code="invalid") from None
        return value


class InstantFilter(django_filters.IsoDateTimeFilter):
    field_class = InstantField
