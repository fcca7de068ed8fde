"""The outbox: every email recorded when queued, what happened to it, and the
suppression list that stops mail to addresses that bounced or complained."""

import logging
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from leads.tests.factories import LeadFactory
from mail.models import OutboundEmail, SuppressedAddress
from mail.tests.factories import OutboundEmailFactory, SuppressedAddressFactory

pytestmark = pytest.mark.django_db

Status = OutboundEmail.Status
REGISTER = "/api/v1/auth/register"
NEW_USER = {"email": "ada@example.com", "password": "Long-Secret-Phrase-9", "full_name": "Ada Lovelace"}
FAILING = "cohortly.tests.failing_email.FailingBackend"


def run_action(client, changelist: str, action: str, *objects, confirm: bool = False) -> str:
    """Run an admin action on `objects` from `changelist` (a URL name), answering
    its confirmation page when `confirm`; the page it ends on."""
    selected = {"action": action, ACTION_CHECKBOX_NAME: [obj.pk for obj in objects]}
    if confirm:
        selected["post"] = "yes"
    response = client.post(reverse(changelist), selected, follow=True)
    return response.content.decode()


def test_nothing_is_sent_to_a_suppressed_address_but_the_reset_they_ask_for(
    anon_client, django_capture_on_commit_callbacks, caplog
):
    SuppressedAddressFactory(address="ada@example.com")
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        assert (
            anon_client.post(REGISTER, NEW_USER, format="json", HTTP_X_REQUEST_ID="req-7").status_code == 202
        )
    welcome = OutboundEmail.objects.get(template="welcome")
    assert welcome.status == Status.SUPPRESSED and "suppressed" in welcome.last_error
    assert mail.outbox == []
    # The line names the outbox row and the request, not the address or the subject.
    (line,) = [r.getMessage() for r in caplog.records if "not sending" in r.getMessage()]
    assert line == (
        f"not sending email {welcome.pk} (welcome): its address is on the suppression list "
        "(hard bounce); request req-7"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(
            "/api/v1/auth/password/reset", {"email": "ada@example.com"}, format="json"
        )
    assert response.status_code in (200, 202, 204)
    reset = OutboundEmail.objects.get(template="password_reset")
    assert reset.status == Status.SENT
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_a_rolled_back_request_leaves_no_mail(anon_client):
    response = anon_client.post(REGISTER, {**NEW_USER, "password": "short"}, format="json")
    assert response.status_code == 400
    assert not OutboundEmail.objects.exists()


def test_one_row_per_recipient(sales_user, make_user, anon_client, django_capture_on_commit_callbacks):
    make_user(User.Role.SALES, email="sales2@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_client.post(
            "/api/v1/leads/", {"full_name": "Grace Hopper", "email": "grace@example.com"}, format="json"
        )
    assert response.status_code == 201
    rows = sorted(OutboundEmail.objects.values_list("template", "to", "status"))
    assert rows == [
        ("lead_new_for_sales", "sales2@example.com", "SENT"),
        ("lead_new_for_sales", "sales@example.com", "SENT"),
        ("lead_received", "grace@example.com", "SENT"),
    ]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "grace@example.com",
        "sales2@example.com",
        "sales@example.com",
    ]


@pytest.mark.django_db(transaction=True)  # the worker manages its own connections and transactions
def test_a_failing_send_stays_visible_until_it_is_given_up_then_retry_now_sends_it(
    settings, anon_client, admin_user, client, caplog
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_BACKEND = FAILING
    settings.EMAIL_MAX_ATTEMPTS = 2
    assert anon_client.post(REGISTER, NEW_USER, format="json", HTTP_X_REQUEST_ID="req-9").status_code == 202
    email = OutboundEmail.objects.get(to="ada@example.com")
    assert (email.status, email.attempts, email.request_id) == (Status.QUEUED, 0, "req-9")

    def run_worker():
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
        email.refresh_from_db()

    with caplog.at_level(logging.ERROR, logger="mail.tasks"):
        run_worker()
    assert (email.status, email.attempts) == (Status.FAILED, 1)
    assert email.last_error == "ConnectionRefusedError: mail provider unreachable"
    # One line of ours, no traceback (the task runner logs the one of the error it gets).
    (line,) = [record for record in caplog.records if record.name == "mail.tasks"]
    assert line.exc_info is None
    assert line.getMessage() == (
        f"sending email {email.pk} (welcome) failed (attempt 1 of 2, request req-9): "
        "ConnectionRefusedError: mail provider unreachable; retry queued"
    )
    assert email.next_attempt_at is not None  # a retry is due
    run_worker()
    assert (email.status, email.attempts, email.next_attempt_at) == (Status.FAILED, 2, None)  # given up
    assert not DBTaskResult.objects.filter(status="READY").exists()

    # The provider is back; the back office sends it again.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(admin_user)
    # Found by the request that caused it; the row says what failed.
    response = client.get(reverse("admin:mail_outboundemail_changelist"), {"q": "req-9"})
    assert list(response.context["cl"].result_list) == [email]
    page = response.content.decode()
    for text in ("ada@<wbr>example.com", "welcome", 'status-badge--failed">failed', "ConnectionRefusedError"):
        assert text in page, text
    page = run_action(client, "admin:mail_outboundemail_changelist", "retry_now", email, confirm=True)
    assert "1 email(s) queued again." in page
    run_worker()
    assert (email.status, email.attempts) == (Status.SENT, 3)
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_retry_now_refuses_what_did_not_fail(admin_web):
    sent = OutboundEmailFactory(status=Status.SENT)
    page = run_action(admin_web, "admin:mail_outboundemail_changelist", "retry_now", sent, confirm=True)
    assert "Only failed emails are retried" in page
    assert mail.outbox == []


def test_remove_from_suppression(admin_web):
    kept = SuppressedAddressFactory(address="kept@example.com")
    gone = SuppressedAddressFactory(address="back@example.com")
    page = run_action(admin_web, "admin:mail_suppressedaddress_changelist", "remove_from_suppression", gone)
    assert "1 address(es) removed from the suppression list: they may be mailed again." in page
    assert list(SuppressedAddress.objects.values_list("address", flat=True)) == [kept.address]
    # Who lifted it, and when: the History keeps the row that is gone.
    from django.contrib.admin.models import DELETION, LogEntry

    lifted = LogEntry.objects.get(action_flag=DELETION)
    assert (lifted.object_id, lifted.object_repr) == (str(gone.pk), str(gone))

    # From the outbox: one recipient suppressed, one that never was. Each is said.
    bounced = OutboundEmailFactory(to="kept@example.com", status=Status.BOUNCED)
    sent = OutboundEmailFactory(to="fine@example.com", status=Status.SENT)
    page = run_action(
        admin_web, "admin:mail_outboundemail_changelist", "remove_from_suppression", bounced, sent
    )
    assert "1 address(es) removed from the suppression list" in page
    assert "1 address(es) weren&#x27;t on the suppression list: nothing to remove." in page
    assert not SuppressedAddress.objects.exists()
    lifted = LogEntry.objects.filter(action_flag=DELETION).values_list("object_repr", flat=True)
    assert sorted(lifted) == sorted([str(gone), str(kept)])


def test_the_outbox_is_read_only(admin_web):
    email = OutboundEmailFactory()
    assert admin_web.get(reverse("admin:mail_outboundemail_add")).status_code == 403
    assert admin_web.post(reverse("admin:mail_outboundemail_delete", args=[email.pk])).status_code == 403
    page = admin_web.get(reverse("admin:mail_outboundemail_change", args=[email.pk])).content.decode()
    assert email.to in page and 'name="to"' not in page


def test_undeliverable_addresses_show_on_users_and_leads(admin_web, sales_user, make_user):
    bounced_user = make_user(email="gone@example.com")
    lead = LeadFactory(email="gone@example.com")
    fine_lead = LeadFactory(email="fine@example.com")
    SuppressedAddressFactory(address="gone@example.com")

    users = admin_web.get(reverse("admin:accounts_user_changelist")).content.decode()
    # The bounced address is marked in the list, the others not.
    assert users.count('status-badge--bounced">Undeliverable') == 1
    assert (
        'gone@<wbr>example.com <span class="status-badge status-badge--bounced">Undeliverable</span>' in users
    )
    page = admin_web.get(reverse("admin:accounts_user_change", args=[bounced_user.pk])).content.decode()
    assert "Undeliverable since" in page and "hard bounce" in page
    page = admin_web.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    assert "Undeliverable since" in page
    page = admin_web.get(reverse("admin:leads_lead_change", args=[fine_lead.pk])).content.decode()
    assert "Undeliverable" not in page and "Deliverable." in page

    admin_web.force_login(sales_user)
    page = admin_web.get(reverse("sales:lead_detail", args=[lead.pk])).content.decode()
    assert "Undeliverable: hard bounce" in page and "sends this address nothing more" in page
    page = admin_web.get(reverse("sales:lead_detail", args=[fine_lead.pk])).content.decode()
    assert "Undeliverable" not in page


def test_retry_now_sends_a_queued_email_whose_worker_died_or_whose_task_never_came(admin_web):
    """A worker killed while sending leaves the row QUEUED with its attempt taken;
    a process that died between the commit and handing the task over leaves it
    QUEUED with none. Nothing will ever run either: past STUCK_AFTER the admin
    may send them. One still being sent is left alone."""
    stuck = OutboundEmailFactory(status=Status.QUEUED, attempts=1, to="stuck@example.com")
    orphan = OutboundEmailFactory(status=Status.QUEUED, attempts=0, to="orphan@example.com")
    recent = OutboundEmailFactory(status=Status.QUEUED, attempts=1, to="sending@example.com")
    old = timezone.now() - timedelta(minutes=11)
    OutboundEmail.objects.filter(pk__in=[stuck.pk, orphan.pk]).update(updated_at=old)
    OutboundEmail.objects.filter(pk=recent.pk).update(updated_at=timezone.now() - timedelta(minutes=2))
    changelist = "admin:mail_outboundemail_changelist"
    # Asked first: a stuck attempt may have reached its recipient already.
    page = run_action(admin_web, changelist, "retry_now", stuck, orphan, recent)
    assert "Send emails again" in page and "they then get it twice" in page
    for address in ("stuck@example.com", "orphan@example.com", "sending@example.com"):
        assert address in page
    assert OutboundEmail.objects.filter(status=Status.QUEUED).count() == 3 and mail.outbox == []
    page = run_action(admin_web, changelist, "retry_now", stuck, orphan, recent, confirm=True)
    assert "2 email(s) queued again." in page
    assert "queued ones untouched for over 10 minutes" in page
    for email in (stuck, orphan, recent):
        email.refresh_from_db()  # the test settings' immediate task backend has sent them already
    assert (stuck.status, stuck.attempts) == (Status.SENT, 2)
    assert (orphan.status, orphan.attempts) == (Status.SENT, 1)
    assert (recent.status, recent.attempts) == (Status.QUEUED, 1)
    assert sorted(m.to[0] for m in mail.outbox) == ["orphan@example.com", "stuck@example.com"]


@pytest.mark.django_db(transaction=True)
def test_a_setting_that_is_wrong_gives_up_at_once_and_says_so(settings, anon_client):
    """An EMAIL_BACKEND that doesn't import fails every attempt alike: no retry
    is queued for hours, and the row says it is the configuration."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_BACKEND = "anymail.backends.sendgird.EmailBackend"
    assert anon_client.post(REGISTER, NEW_USER, format="json").status_code == 202
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    email = OutboundEmail.objects.get(to="ada@example.com")
    assert (email.status, email.attempts, email.next_attempt_at) == (Status.FAILED, 1, None)
    assert email.last_error.startswith("Configuration: ModuleNotFoundError")
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_retries_wait_longer_each_time_to_outlast_an_outage_of_hours():
    from mail.tasks import retry_delay

    waits = [retry_delay(attempt) for attempt in range(1, 7)]
    minutes = [timedelta(minutes=n) for n in (1, 5, 25, 125)]
    assert waits[:4] == minutes
    assert waits[4] == waits[5] == timedelta(hours=6)
    assert sum(waits[:4], timedelta()) > timedelta(hours=2)  # the default five attempts span them


def test_an_outbox_email_page_is_for_reading_only(admin_web):
    email = OutboundEmailFactory(status=Status.SENT)
    url = reverse("admin:mail_outboundemail_change", args=[email.pk])
    page = admin_web.get(url).content.decode()
    assert email.subject in page and 'name="_save"' not in page
    before = OutboundEmail.objects.filter(pk=email.pk).values().get()
    assert admin_web.post(url, {"_save": "Save"}).status_code == 403
    assert OutboundEmail.objects.filter(pk=email.pk).values().get() == before


def test_the_outbox_cant_be_filtered_by_the_bodies_it_leaves_out(admin_web):
    """A body holds the links it sent (set a password, an invitation): filtering
    by it would read one out a guess at a time by the count shown."""
    OutboundEmailFactory(template="password_reset", body="https://example.com/reset-password/abc123/")
    for lookup in ("body__contains=reset-password/abc", "body__startswith=https"):
        response = admin_web.get(f"/admin/mail/outboundemail/?{lookup}")
        assert response.status_code == 400, lookup  # Django's answer to a lookup it doesn't allow
    assert admin_web.get("/admin/mail/outboundemail/?template=password_reset").status_code == 200


def test_a_refused_recipient_is_named_in_the_outbox_but_not_in_the_log(settings, caplog):
    """The server's refusal names the address: the outbox row (the back office)
    keeps its words, the log line and the error the task runner logs don't."""
    from mail.tasks import EmailDeliveryError, send_email_task

    settings.EMAIL_BACKEND = "cohortly.tests.failing_email.RefusingBackend"
    settings.EMAIL_MAX_ATTEMPTS = 1
    email = OutboundEmail.objects.create(
        to="private.person@example.com", template="welcome", subject="Welcome", body="Hello"
    )
    with caplog.at_level(logging.INFO), pytest.raises(EmailDeliveryError) as raised:
        send_email_task.call(email_id=email.pk, attempt=1)
    email.refresh_from_db()
    assert email.status == Status.FAILED
    assert "private.person@example.com" in email.last_error
    assert str(raised.value) == "SMTPRecipientsRefused: {'[address]': (550, b'5.1.1 User unknown')}"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    lines = [record.getMessage() for record in caplog.records]
    assert any("[address]" in line for line in lines), lines
    assert not [line for line in lines if "private.person" in line]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_mail_one_mailbox_no_more_than_the_limit(monkeypatch, make_user):
    """Each counted the two links already sent, and each queued one more: ten
    resets asked at once sent four or five. The queueing is slowed down so that
    every request counts before any has queued (as on a busy server)."""
    import threading
    import time

    from django.db import connection

    import cohortly.emails
    from accounts.services import password_reset_send
    from cohortly.emails import PER_ADDRESS_LIMIT

    person = make_user(email="ada@example.com")
    original = cohortly.emails.outbox_enqueue

    def slow_enqueue(**kwargs):
        time.sleep(0.2)
        return original(**kwargs)

    monkeypatch.setattr(cohortly.emails, "outbox_enqueue", slow_enqueue)
    barrier, sent, errors = threading.Barrier(10), [], []

    def ask():
        try:
            barrier.wait(timeout=10)
            sent.append(password_reset_send(email=person.email))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    most, _ = PER_ADDRESS_LIMIT
    assert sorted(sent) == [0] * (10 - most) + [1] * most
    assert OutboundEmail.objects.filter(template="password_reset", to=person.email).count() == most


@pytest.mark.django_db(transaction=True)
def test_emails_failing_in_an_outage_count_toward_the_limit_as_their_retries_send_them(settings, make_user):
    """A failed send with a retry queued is sent once the provider is back: it
    counts toward the mailbox's limit as a queued one does, or an outage let
    anyone queue any number of resets that all reach the mailbox afterwards."""
    from accounts.services import password_reset_send
    from cohortly.emails import PER_ADDRESS_LIMIT

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_BACKEND = FAILING
    person = make_user(email="ada@example.com")

    def run_worker(retries_too=False):
        if retries_too:
            DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    most, _ = PER_ADDRESS_LIMIT
    for _ in range(most + 3):
        password_reset_send(email=person.email)
        run_worker()
    assert OutboundEmail.objects.filter(to=person.email).count() == most
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {Status.FAILED}

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run_worker(retries_too=True)
    assert len(mail.outbox) == most


def test_retry_now_while_a_retry_is_being_sent_does_not_send_it_twice(monkeypatch):
    """The row read "failed" while its next attempt was with the provider, and
    "retry now" took a further attempt of it then: the email went out twice.
    An attempt under way is queued; it is retried once it fails, or is stuck."""
    from django.core.mail.backends.locmem import EmailBackend

    from cohortly import errors
    from mail import services

    email = OutboundEmailFactory(status=Status.FAILED, attempts=1, provider_message_id="")
    original, retried = EmailBackend.send_messages, []

    def send_after_another_retry_now(self, messages):
        if not retried:  # the admin's second click, while the first one's attempt is sending
            retried.append("again")
            try:
                services.outbox_retry(email=OutboundEmail.objects.get(pk=email.pk))
            except errors.Conflict as exc:
                retried.append(str(exc))
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_after_another_retry_now)
    services.outbox_retry(email=email)
    assert [m.to for m in mail.outbox] == [[email.to]]
    assert "this one is queued" in retried[1]
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.SENT, 2)
