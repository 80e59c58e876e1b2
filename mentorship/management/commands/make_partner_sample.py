"""`python manage.py make_partner_sample [DIR] [--records N] [--format csv|json] [--seed S]`"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from mentorship.partners.sample import SMALL, generate, scaled, write_export


class Command(BaseCommand):
    help = (
        "Write a generated buddy export (users, matches, events, check-ins, feedback, milestones). Without "
        "--records: the small sample shipped in docs/samples/buddy/."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", default="docs/samples/buddy", help="Where to write the files.")
        parser.add_argument("--records", type=int, help="About this many records in all (default: the small sample).")
        parser.add_argument("--format", choices=("csv", "json"), default="csv")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--domain", default="example.org", help="The e-mail domain of the people.")

    def handle(self, *args, directory, records=None, format="csv", seed=2026, domain="example.org", **options):
        sizes = scaled(records) if records else SMALL
        rows = generate(sizes, seed=seed, domain=domain)
        for path in write_export(rows, directory, fmt=format):
            kind = path.stem
            self.stdout.write(f"{path}: {len(rows[kind])} rows")
