from django.core.management.base import BaseCommand, CommandError

from enrollments.selectors import integrity_report
from enrollments.services import integrity_fix


class Command(BaseCommand):
    help = (
        "Check dual-write consistency, orphaned references, roles missing from templates, "
        "campaign capacity and journey flags. --fix repairs what can be repaired. Exits non-zero "
        "while problems remain."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="Repair dual-write mismatches and stale flags.")

    def handle(self, *args, fix=False, **options):
        if fix:
            self.stdout.write("Repairing ...")
            fixed = integrity_fix()
            for name, count in fixed.items():
                self.stdout.write(f"  repaired {count} {name.replace('_', ' ')}")
        report = integrity_report()
        for check in report["checks"]:
            marker = "ok  " if check["count"] == 0 else "FAIL"
            self.stdout.write(f"[{marker}] {check['name']}: {check['count']} - {check['description']}")
            for problem in check["problems"][:20]:
                ids = ", ".join(f"{k}={v}" for k, v in problem.items() if k != "detail")
                self.stdout.write(f"         {ids}: {problem['detail']}")
        if not report["ok"]:
            hint = "" if fix else " (run with --fix to repair the fixable ones)"
            raise CommandError(f"{report['problem_count']} integrity problem(s) remain{hint}.")
        self.stdout.write(self.style.SUCCESS("No integrity problems."))
