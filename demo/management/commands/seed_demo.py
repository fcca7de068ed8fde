"""Load demo data so that `make run` shows a living system. Idempotent: running
it again adds nothing that is already there.

With --scale N it loads benchmark-sized data instead (demo/scale.py): the
demo seeders don't run then; run the command once without --scale as well if
the demo logins are wanted on the same database.

It lives in the `demo` app, above every other app, because it seeds them all:
`accounts` stands on no domain app, so it can't hold this command."""

from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo import scale as scale_data

# Each app with demo data has a `demo` module with `seed(stdout=, style=, context=)`;
# they run in this order and share `context` (users, bootcamps, ...). Coursework
# comes last: lead conversions enroll students, whose work it then adds, so a
# second run finds nothing left to add.
SEEDERS = ["accounts.demo", "bootcamps.demo", "enrollments.demo", "leads.demo", "assignments.demo"]


class Command(BaseCommand):
    help = "Load demo data: one user of each role (passwords printed) and each app's demo records."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            help=(
                "Load benchmark-sized data instead of the demo records: at 1, 10,000 users, "
                "1,000 bootcamps, 20,000 enrollments, 5,000 assignments, 100,000 leads "
                "(fractions allowed). Skipped when scale data is already loaded."
            ),
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed for --scale (default 1).")
        parser.add_argument(
            "--without-debug",
            action="store_true",
            help=(
                "Load it although DEBUG is off (the benchmark's server, the tests). Never on a database "
                "real people use: the accounts it makes have passwords the README publishes."
            ),
        )

    def handle(self, *args, scale=None, seed=1, without_debug=False, **options):
        if not settings.DEBUG and not without_debug:
            # An ADMIN whose password is in the README, on a production database.
            raise CommandError(
                "DEBUG is off, so this looks like a production setup: the demo accounts' passwords are "
                "published in the README. Run it with DEBUG=true on a development database (make run does), "
                "or add --without-debug if this database is only for trying Cohortly out."
            )
        if scale is not None:
            if not 0 < scale <= 100:
                raise CommandError("--scale must be above 0 and at most 100.")
            scale_data.seed(scale=scale, seed=seed, stdout=self.stdout, style=self.style)
            return
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
        self.stdout.write(self.style.SUCCESS("Demo data ready: ") + _totals())


def _totals() -> str:
    """What the database holds now (the seeders above say what they added)."""
    from django.apps import apps

    def count(label, **filters):
        return apps.get_model(label).objects.filter(**filters).count()

    waitlisted = count("enrollments.Enrollment", status="WAITLISTED")
    graded = count("assignments.Submission", score__isnull=False)
    return (
        f"{count('accounts.User')} users, {count('bootcamps.Bootcamp')} bootcamps, "
        f"{count('enrollments.Enrollment')} enrollments ({waitlisted} on a waitlist), "
        f"{count('assignments.Assignment')} assignments, "
        f"{count('assignments.Submission')} submissions ({graded} graded), {count('leads.Lead')} leads."
    )
