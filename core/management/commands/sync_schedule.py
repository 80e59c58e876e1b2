from django.core.management.base import BaseCommand

from core.schedule import sync_schedule


class Command(BaseCommand):
    help = "Write the job schedule (config/schedule.py) into Celery beat's tables."

    def handle(self, *args, **options):
        counts = sync_schedule(say=lambda line: self.stdout.write(f"  {line}"))
        self.stdout.write(
            f"Schedule synced: {counts['created']} created, {counts['updated']} updated, {counts['removed']} removed."
        )
