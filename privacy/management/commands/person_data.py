"""Export or erase everything the platform holds about one person, found by e-mail.

    python manage.py person_data export --email E [--out FILE]
    python manage.py person_data erase --email E --reason "..." [--yes]

Erasure asks for confirmation on a terminal; without one (CI, cron, a pipe) it needs `--yes`.
"""

from __future__ import annotations

import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from privacy.services import person_erase, person_export_record


class Command(BaseCommand):
    help = "Export (JSON) or erase (anonymise) the personal data of one person, found by e-mail."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Write the person's data as JSON (stdout or --out).")
        export.add_argument("--email", required=True)
        export.add_argument("--out", help="A file to write; stdout when absent.")
        erase = sub.add_parser("erase", help="Anonymise the person in place; figures stay.")
        erase.add_argument("--email", required=True)
        erase.add_argument("--reason", required=True, help="The request this answers (recorded in the audit trail).")
        erase.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def _user(self, email: str):
        user = get_user_model().objects.filter(email__iexact=(email or "").strip()).first()
        if user is None:
            raise CommandError(f"No person with the e-mail {email}.")
        return user

    def handle(self, *args, action, email, **options):
        user = self._user(email)
        if action == "export":
            return self._export(user, options.get("out"))
        return self._erase(user, options["reason"], options["yes"])

    def _export(self, user, out: str | None) -> None:
        export = person_export_record(user=user, actor="command", via="command")
        text = json.dumps(export, indent=2, ensure_ascii=False, sort_keys=True)
        rows = export["summary"]["rows"]
        if out:
            with open(out, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            for label, count in rows.items():
                if count:
                    self.stdout.write(f"  {label}: {count}")
            self.stdout.write(
                self.style.SUCCESS(f"Exported {export['summary']['total']} row(s) of {user.email} to {out}.")
            )
        else:
            self.stdout.write(text)

    def _erase(self, user, reason: str, yes: bool) -> None:
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Erasure cannot be undone: pass --yes to erase without a terminal to confirm on.")
            answer = input(f"Erase the personal data of {user.email}? This cannot be undone. Type 'erase': ")
            if answer.strip() != "erase":
                raise CommandError("Not confirmed; nothing was changed.")
        self.stdout.write(f"Erasing the personal data of {user.email} ...")
        try:
            report = person_erase(user=user, actor="command", reason=reason)
        except DomainError as exc:
            details = " ".join(f"{k}: {v}" for k, v in exc.errors.items())
            raise CommandError(" ".join(filter(None, [exc.detail, details]))) from None
        if report.already_erased:
            self.stdout.write("  already erased before; nothing personal was left.")
        groups = (("anonymised", report.anonymised), ("deleted", report.deleted), ("rewritten", report.rewritten))
        for title, counts in groups:
            for label, count in sorted(counts.items()):
                self.stdout.write(f"  {title} {label}: {count}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased: the account is now {report.email} ({report.total} row(s) changed; "
                f"audit entry {report.audit_entry_id})."
            )
        )
