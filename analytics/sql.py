"""SQL expressions the metrics share, written for PostgreSQL (production and tests) with an
equivalent for SQLite (the embedded default of a quick start), so every report also works there.

- `EpochSeconds(end, start)`: seconds from `start` to `end` as a float (NULL when either is NULL).
- `PercentileCont(expression, fraction)`: PostgreSQL's continuous percentile; on other databases it
  renders NULL and `percentile_cont` computes the same value in Python from the fetched values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.db.models import Aggregate, FloatField, Func, Value


class EpochSeconds(Func):
    arity = 2
    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


class PercentileCont(Aggregate):
    """PostgreSQL `percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)`."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return compiler.compile(Value(None, output_field=FloatField()))


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """The continuous percentile as PostgreSQL computes it: linear interpolation between the two
    sorted values around position fraction * (n - 1)."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
