"""Delete what has expired or outlived its use. Run it daily (render.yaml's
cohortly-housekeeping cron job; README, Production).

Without it these tables only grow: every sign-in to the admin or the sales pages
leaves a session row, every API login and refresh an outstanding-token row, every
email a task row and an outbox row. Nothing here is anyone's data of record: a
session or a refresh token past its expiry can't be used again, a finished task
has done its work, and an old outbox email's only use left is the link it carried.
What is still in use is kept whatever its age: an email waiting for its next
attempt, a task not yet run, the suppression list.
"""

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from leads import submit_once
from leads.models import SentForm
from legacy.models import LegacyRefreshToken
from mail.models import DeliveryEvent, OutboundEmail

#: An outbox email in one of these has nothing left to happen to it.
FINISHED_EMAIL_STATUSES = [
    OutboundEmail.Status.SENT,
    OutboundEmail.Status.DELIVERED,
    OutboundEmail.Status.FAILED,
    OutboundEmail.Status.BOUNCED,
    OutboundEmail.Status.SUPPRESSED,
]


class Command(BaseCommand):
    help = (
        "Delete expired sessions and refresh tokens, old finished tasks, old outbox emails and "
        "old sales-form claims."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")

    def handle(self, *, dry_run: bool, **options):
        now = timezone.now()
        self.dry_run = dry_run
        self.sessions(now)
        self.step(
            "Expired API refresh tokens",
            OutstandingToken.objects.filter(expires_at__lte=now),
        )
        self.step(
            "Expired Node refresh tokens (MIGRATING.md)",
            LegacyRefreshToken.objects.filter(expires_at__lte=now),
        )
        task_cutoff = now - timedelta(days=settings.TASK_RESULTS_KEEP_DAYS)
        self.step(
            f"Background tasks finished more than {settings.TASK_RESULTS_KEEP_DAYS} days ago",
            # Whichever backend stored them: one switched off since leaves its rows too.
            DBTaskResult.objects.finished().filter(finished_at__lte=task_cutoff),
        )
        self.step(
            "Sales forms acted on more than a day ago (a repeat of one is new by then)",
            SentForm.objects.filter(created_at__lte=now - submit_once.KEEP),
        )
        email_cutoff = now - timedelta(days=settings.EMAIL_KEEP_DAYS)
        old_emails = OutboundEmail.objects.filter(
            status__in=FINISHED_EMAIL_STATUSES, updated_at__lte=email_cutoff
        )
        # Their delivery events first: on their own they would only lose their email.
        self.step(
            f"Delivery events of outbox emails untouched for {settings.EMAIL_KEEP_DAYS} days, "
            "and events of no email received before then",
            DeliveryEvent.objects.filter(email__in=old_emails.values("pk"))
            | DeliveryEvent.objects.filter(email__isnull=True, received_at__lte=email_cutoff),
        )
        self.step(
            f"Outbox emails sent or given up on, untouched for {settings.EMAIL_KEEP_DAYS} days",
            old_emails,
        )

    def step(self, label: str, rows) -> None:
        """Delete `rows` (a queryset), or count them on a dry run, and say how many."""
        if self.dry_run:
            self.stdout.write(f"{label}: {rows.count():,} would be deleted")
            return
        # The model's own rows (the cascades, a token's blacklist entry, go with them).
        deleted = rows.delete()[1].get(rows.model._meta.label, 0)
        self.stdout.write(f"{label}: {deleted:,} deleted")

    def sessions(self, now) -> None:
        label = "Expired sign-in sessions (admin, sales pages)"
        store = import_module(settings.SESSION_ENGINE).SessionStore
        if hasattr(store, "get_model_class"):  # a database store: its rows, counted
            self.step(label, store.get_model_class().objects.filter(expire_date__lt=now))
        elif not self.dry_run:  # another store clears what it can (a cache expires its own)
            store.clear_expired()
            self.stdout.write(f"{label}: cleared by the session store")
