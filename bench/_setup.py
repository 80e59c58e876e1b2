"""Shared set-up of the benchmarks: a dedicated PostgreSQL database, migrated, the size scale, and
the JSON printer.

Every figure is one JSON line with the same keys: `name`, `size`, `seconds`, `rate` (size per
second), `baseline` (the name of the figure it is compared with, or null) and `ratio` (this
figure's `ratio_of` value, `seconds` unless the line says otherwise, divided by the baseline's),
plus the figure's own details. `BENCH_SCALE` (default 1) multiplies every default size, so
`BENCH_SCALE=0.05` runs the whole set in a few minutes; sizes given on the command line win."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/platform_bench")
SCALE = float(os.environ.get("BENCH_SCALE") or 1)

_reported: dict[str, dict] = {}


def scaled(size: int, minimum: int = 1) -> int:
    """A default size multiplied by `BENCH_SCALE` (never below `minimum`)."""
    return max(minimum, round(size * SCALE))


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
    import psycopg

    server, name = BENCH_DATABASE_URL.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def report(
    name: str,
    size: int,
    seconds: float,
    *,
    baseline: str | None = None,
    ratio: float | None = None,
    ratio_of: str = "seconds",
    **extra,
) -> None:
    """Print one figure. With `baseline` (an earlier figure's name) and no explicit `ratio`, the
    ratio is this figure's `ratio_of` value divided by the baseline's."""
    row = {
        "name": name,
        "size": size,
        "seconds": round(seconds, 3),
        "rate": round(size / seconds, 1) if seconds else None,
    }
    row.update(extra)
    base = _reported.get(baseline) if baseline else None
    if ratio is None and base is not None:
        mine = seconds if ratio_of == "seconds" else row.get(ratio_of)
        theirs = base["_seconds"] if ratio_of == "seconds" else base.get(ratio_of)
        if mine is not None and theirs:
            ratio = mine / theirs
    row["baseline"] = baseline
    row["ratio"] = None if ratio is None else round(ratio, 3)
    if baseline and ratio_of != "seconds":
        row["ratio_of"] = ratio_of
    if SCALE != 1:
        row["scale"] = SCALE
    _reported[name] = {**row, "_seconds": seconds}
    sys.stdout.write(json.dumps(row) + "\n")
    sys.stdout.flush()
