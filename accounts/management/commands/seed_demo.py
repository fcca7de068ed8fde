"""Load demo data so that `make run` shows a living system. Idempotent: running
it again adds nothing that is already there."""

from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app with demo data has a `demo` module with `seed(stdout=, style=, context=)`;
# they run in this order and share `context` (users, bootcamps, ...).
SEEDERS = ["accounts.demo", "bootcamps.demo", "enrollments.demo", "assignments.demo", "leads.demo"]


class Command(BaseCommand):
    help = "Load demo data: one user of each role (passwords printed) and each app's demo records."

    def handle(self, *args, **options):
        context = {}
        with transaction.atomic():
            for name in SEEDERS:
                try:
                    module = import_module(name)
                except ModuleNotFoundError as exc:
                    if exc.name != name:
                        raise
                    continue
                module.seed(stdout=self.stdout, style=self.style, context=context)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
