from django.core.management.base import BaseCommand
from django.db import transaction

from core.demo import demo_seeders


class Command(BaseCommand):
    help = "Load the demo data (idempotent: running it again changes nothing)."

    def handle(self, *args, **options):
        seeders = demo_seeders()
        for index, seeder in enumerate(seeders, start=1):
            self.stdout.write(f"[{index}/{len(seeders)}] {seeder.name} ...")
            with transaction.atomic():
                seeder.fn(lambda line: self.stdout.write(f"    {line}"))
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
