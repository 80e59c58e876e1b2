"""Shared set-up of the benchmarks: a dedicated PostgreSQL database, migrated, and a JSON printer."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/platform_bench")


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


def report(name: str, size: int, seconds: float, **extra) -> None:
    row = {
        "name": name,
        "size": size,
        "seconds": round(seconds, 3),
        "rate": round(size / seconds, 1) if seconds else None,
    }
    row.update(extra)
    sys.stdout.write(json.dumps(row) + "\n")
    sys.stdout.flush()
