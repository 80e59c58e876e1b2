from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from core.jobs import job_registry, run_job
from core.models import JobRun


class Command(BaseCommand):
    help = "Run a scheduled job now, printing its progress. `--list` shows the jobs."

    def add_arguments(self, parser):
        parser.add_argument("job", nargs="?", help="The job's name.")
        parser.add_argument("--list", action="store_true", help="List the registered jobs.")

    def handle(self, *args, job=None, list=False, **options):
        if list or not job:
            for name, entry in job_registry().items():
                self.stdout.write(f"{name:28} {entry.description}")
            return
        self.stdout.write(f"Running {job} ...")
        try:
            run = run_job(job, trigger=JobRun.Trigger.COMMAND, out=lambda line: self.stdout.write(f"  {line}"))
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        counts = ", ".join(f"{k}={v}" for k, v in sorted(run.counts.items())) or "nothing to do"
        self.stdout.write(f"{job}: {run.status} in {run.duration_seconds:.2f}s ({counts}); run {run.id}")
        if run.status != JobRun.Status.SUCCEEDED:
            raise CommandError(f"{job} failed: {run.error}")
