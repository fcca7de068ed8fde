"""manage.py housekeeping: what has expired or outlived its use goes, and nothing
still in use, whatever its age."""

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import StudentFactory
from legacy.models import LegacyRefreshToken
from mail.models import DeliveryEvent, OutboundEmail, SuppressedAddress

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAY = timedelta(days=1)


def housekeeping(*args) -> str:
    out = StringIO()
    call_command("housekeeping", *args, stdout=out)
    return out.getvalue()


def _session(expires_in: timedelta) -> str:
    store = SessionStore()
    store["who"] = "a sales rep"
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=NOW + expires_in)
    return store.session_key


def _refresh_token(user, expires_in: timedelta) -> OutstandingToken:
    token = RefreshToken.for_user(user)  # recorded as outstanding by simplejwt's blacklist app
    OutstandingToken.objects.filter(jti=token["jti"]).update(expires_at=NOW + expires_in)
    return OutstandingToken.objects.get(jti=token["jti"])


def _node_token(user, expires_in: timedelta) -> LegacyRefreshToken:
    return LegacyRefreshToken.objects.create(
        legacy_id=uuid.uuid4(),
        user=user,
        token_hash=uuid.uuid4().hex * 2,
        expires_at=NOW + expires_in,
        created_at=NOW - 30 * DAY,
    )


def _task(status: str, finished_ago: timedelta | None) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=status,
        finished_at=None if finished_ago is None else NOW - finished_ago,
        args_kwargs={"args": [], "kwargs": {"email": "someone@example.com"}},
        task_path="accounts.tasks.password_reset_task",
        backend_name="default",
        run_after=NOW - 30 * DAY,
    )


def _email(status: str, touched_ago: timedelta) -> OutboundEmail:
    email = OutboundEmail.objects.create(
        to="ada@example.com", template="password_reset", subject="Set your password", body="…", status=status
    )
    OutboundEmail.objects.filter(pk=email.pk).update(updated_at=NOW - touched_ago)
    return email


def _event(email: OutboundEmail | None, received_ago: timedelta) -> DeliveryEvent:
    event = DeliveryEvent.objects.create(email=email, event_type="delivered", recipient="ada@example.com")
    DeliveryEvent.objects.filter(pk=event.pk).update(received_at=NOW - received_ago)
    return event


@pytest.fixture
def stored(settings):
    """Rows of every kind, on both sides of each line."""
    settings.TASK_RESULTS_KEEP_DAYS, settings.EMAIL_KEEP_DAYS = 14, 180
    user = StudentFactory()
    old_sent, old_failed = _email("SENT", 200 * DAY), _email("FAILED", 181 * DAY)
    recent_sent, old_queued = _email("DELIVERED", 10 * DAY), _email("QUEUED", 400 * DAY)
    blacklisted = _refresh_token(user, -DAY)
    BlacklistedToken.objects.create(token=blacklisted)
    return {
        "sessions": {"gone": [_session(-DAY)], "kept": [_session(DAY)]},
        "tokens": {
            "gone": [blacklisted.pk, _refresh_token(user, -DAY).pk],
            "kept": [_refresh_token(user, DAY).pk],
        },
        "node tokens": {"gone": [_node_token(user, -DAY).pk], "kept": [_node_token(user, DAY).pk]},
        "tasks": {
            "gone": [_task("SUCCESSFUL", 15 * DAY).pk, _task("FAILED", 20 * DAY).pk],
            # Finished lately; waiting to run (however old); running.
            "kept": [_task("SUCCESSFUL", 13 * DAY).pk, _task("READY", None).pk, _task("RUNNING", None).pk],
        },
        "emails": {"gone": [old_sent.pk, old_failed.pk], "kept": [recent_sent.pk, old_queued.pk]},
        "events": {
            "gone": [_event(old_sent, 200 * DAY).pk, _event(old_failed, DAY).pk, _event(None, 181 * DAY).pk],
            "kept": [
                _event(recent_sent, 10 * DAY).pk,
                _event(old_queued, 300 * DAY).pk,
                _event(None, 179 * DAY).pk,
            ],
        },
    }


MODELS = {
    "sessions": (Session, "session_key"),
    "tokens": (OutstandingToken, "pk"),
    "node tokens": (LegacyRefreshToken, "pk"),
    "tasks": (DBTaskResult, "pk"),
    "emails": (OutboundEmail, "pk"),
    "events": (DeliveryEvent, "pk"),
}


def remaining(stored) -> dict[str, set]:
    return {
        kind: set(
            model.objects.filter(**{f"{key}__in": [*rows["gone"], *rows["kept"]]}).values_list(key, flat=True)
        )
        for kind, rows in stored.items()
        for model, key in [MODELS[kind]]
    }


def test_what_has_expired_or_outlived_its_use_goes_and_nothing_else(stored):
    SuppressedAddress.objects.create(address="old@example.com", reason="BOUNCED")
    SuppressedAddress.objects.filter(address="old@example.com").update(updated_at=NOW - 1000 * DAY)

    out = housekeeping()

    assert remaining(stored) == {kind: set(rows["kept"]) for kind, rows in stored.items()}
    # A token's blacklist entry goes with it; the suppression list is never pruned.
    assert not BlacklistedToken.objects.exists()
    assert SuppressedAddress.objects.filter(address="old@example.com").exists()
    assert out.splitlines() == [
        "Expired sign-in sessions (admin, sales pages): 1 deleted",
        "Expired API refresh tokens: 2 deleted",
        "Expired Node refresh tokens (MIGRATING.md): 1 deleted",
        "Background tasks finished more than 14 days ago: 2 deleted",
        "Sales forms acted on more than a day ago (a repeat of one is new by then): 0 deleted",
        "Delivery events of outbox emails untouched for 180 days, and events of no email received before then: "
        "3 deleted",
        "Outbox emails sent or given up on, untouched for 180 days: 2 deleted",
    ]


def test_a_dry_run_counts_and_deletes_nothing(stored):
    before = remaining(stored)

    out = housekeeping("--dry-run")

    assert remaining(stored) == before
    assert "Expired API refresh tokens: 2 would be deleted" in out
    assert "Outbox emails sent or given up on, untouched for 180 days: 2 would be deleted" in out


def test_the_periods_are_settings(stored, settings):
    settings.TASK_RESULTS_KEEP_DAYS, settings.EMAIL_KEEP_DAYS = 30, 365

    out = housekeeping()

    left = remaining(stored)
    assert set(stored["tasks"]["gone"]) <= left["tasks"]
    assert set(stored["emails"]["gone"]) <= left["emails"]
    assert "Background tasks finished more than 30 days ago: 0 deleted" in out


def test_a_second_run_finds_nothing_left(stored):
    housekeeping()
    assert all(line.endswith(": 0 deleted") for line in housekeeping().splitlines())


def test_a_live_session_still_signs_in_after_housekeeping(stored):
    key = stored["sessions"]["kept"][0]
    housekeeping()
    assert SessionStore(session_key=key).load() == {"who": "a sales rep"}


@pytest.mark.parametrize("days", ["0", "99999999"])  # under a day; past the calendar (no cutoff date)
@pytest.mark.parametrize("name", ["TASK_RESULTS_KEEP_DAYS", "EMAIL_KEEP_DAYS"])
def test_a_keeping_period_under_a_day_or_past_the_calendar_is_refused(name, days):
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.INSTALLED_APPS"],
        cwd=Path(__file__).resolve().parents[2],
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "cohortly.settings",
            "DEBUG": "true",
            name: days,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"{name} must be a number of days, from 1 to 36500." in result.stderr
