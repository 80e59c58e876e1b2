from django.core.management.base import BaseCommand

from templates_app.services import templates_seed_builtin


class Command(BaseCommand):
    help = "Create and publish the built-in program templates that do not exist yet."

    def handle(self, *args, **options):
        created = templates_seed_builtin(say=lambda line: self.stdout.write(line))
        self.stdout.write(self.style.SUCCESS(f"{created} template(s) created."))
