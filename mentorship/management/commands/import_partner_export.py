"""`python manage.py import_partner_export --source buddy PATH [--program KEY] [--dry-run] [--json]`"""

from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from mentorship.partners.batch import SOURCES, partner_import
from mentorship.partners.export import ExportError

BAR = 30


class _Progress:
    """A progress bar on a terminal (redrawn in place), else one line per phase and tenth."""

    def __init__(self, stream, tty: bool) -> None:
        self.stream = stream
        self.tty = tty
        self.started = time.monotonic()
        self.shown: dict[str, int] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        share = done / total if total else 1.0
        if self.tty:
            filled = int(share * BAR)
            bar = "#" * filled + "-" * (BAR - filled)
            elapsed = time.monotonic() - self.started
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{phase:10} [{bar}] {done:>7}/{total:<7} {elapsed:6.1f}s{end}")
            self.stream.flush()
            return
        tenth = int(share * 10)
        if self.shown.get(phase, -1) == tenth:
            return
        self.shown[phase] = tenth
        self.stream.write(f"{phase}: {done}/{total} ({share:.0%})\n")
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Import a partner export directory (users, matches, events, check-ins, feedback, milestones as CSV or "
        "JSON files) and print a reconciliation report. Idempotent: importing it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The export directory (see docs/operators/mentorship-import.md).")
        parser.add_argument("--source", required=True, choices=SOURCES, help="The partner system.")
        parser.add_argument(
            "--program", dest="program_key", help="The program's key (default: the single active buddy program)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the report as JSON.")
        parser.add_argument("--no-progress", action="store_true", help="Do not show progress.")

    def handle(self, *args, path, source, program_key=None, dry_run=False, as_json=False, no_progress=False, **options):
        progress = None
        if not no_progress:
            err = self.stderr._out if hasattr(self.stderr, "_out") else sys.stderr
            progress = _Progress(err, tty=hasattr(err, "isatty") and err.isatty())
        try:
            report = partner_import(
                source=source, path=path, program_key=program_key, dry_run=dry_run, progress=progress
            )
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        except DomainError as exc:
            raise CommandError(exc.detail + "".join(f" {k}: {v}" for k, v in exc.errors.items())) from exc
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            for line in report.lines():
                self.stdout.write(line)
