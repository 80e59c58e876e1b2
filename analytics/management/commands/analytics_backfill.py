"""Write the daily snapshots of a range of past days (one run of the `analytics_snapshots` job)."""

from __future__ import annotations

import uuid
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics.snapshots import MAX_BACKFILL_DAYS, snapshot_range
from core.errors import DomainError
from core.jobs import run_job
from core.models import JobRun
from programs.models import Program


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"'{value}' is not a date (YYYY-MM-DD).") from None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class Command(BaseCommand):
    help = (
        "Compute the analytics snapshots of every day from --from to --to (inclusive), replacing rows "
        "already written for those days, printing progress per day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="date_to", required=True, help="Last day, YYYY-MM-DD.")
        parser.add_argument("--program", action="append", default=None, help="A program id or key (repeatable).")

    def handle(self, *args, date_from, date_to, program=None, **options):
        start, end = _day(date_from), _day(date_to)
        if start > end:
            raise CommandError("--from is after --to.")
        if (end - start).days + 1 > MAX_BACKFILL_DAYS:
            raise CommandError(f"At most {MAX_BACKFILL_DAYS} days at once.")
        program_ids = None
        if program:
            program_ids = []
            for value in program:
                found = Program.objects.filter(program_key=value).values_list("id", flat=True).first()
                if found is None and _is_uuid(value):
                    found = Program.objects.filter(pk=value).values_list("id", flat=True).first()
                if found is None:
                    raise CommandError(f"No program with the id or key '{value}'.")
                program_ids.append(found)

        def body(context):
            rows = snapshot_range(
                date_from=start,
                date_to=end,
                program_ids=program_ids,
                progress=lambda line: (context.progress(line), self.stdout.write(f"  {line}")),
            )
            context.count("rows", rows)
            context.count("days", (end - start).days + 1)

        self.stdout.write(f"Backfilling snapshots {start.isoformat()} .. {end.isoformat()} ...")
        try:
            run = run_job("analytics_snapshots", trigger=JobRun.Trigger.COMMAND, body=body)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        if run.status != JobRun.Status.SUCCEEDED:
            raise CommandError(f"Backfill failed: {run.error}")
        self.stdout.write(
            f"Wrote {run.counts.get('rows', 0)} snapshot rows for {run.counts.get('days', 0)} days; run {run.id}"
        )
