"""Smoke check of the embedded default (run by `make embedded-check` after seed_demo): the pages and
API reads that aggregate across apps answer 200 on SQLite, signed in as the demo operator."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from programs.models import Program  # noqa: E402


def main() -> int:
    operator = get_user_model().objects.filter(is_superuser=True).order_by("email").first()
    if operator is None:
        sys.stderr.write("embedded smoke: no superuser in the demo data\n")
        return 1
    client = Client()
    client.force_login(operator)
    program = Program.objects.order_by("name").first()
    paths = [
        "/admin/",
        "/admin/analytics/snapshot/dashboard/",
        f"/admin/analytics/snapshot/dashboard/{program.pk}/",
        "/api/v1/admin/analytics",
        f"/api/v1/admin/programs/{program.pk}/analytics",
        f"/api/v1/admin/programs/{program.pk}/analytics/impact",
        "/api/v1/admin/analytics/impact",
    ]
    failed = 0
    for path in paths:
        status = client.get(path).status_code
        sys.stdout.write(f"embedded smoke: {status} {path}\n")
        failed += status != 200
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
