import datetime
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.query import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import JUNK_NAMES, JUNK_PHONES
from bootcamps.models import Bootcamp
from cohortly.errors import Conflict
from enrollments.models import Enrollment
from leads import selectors, services
from leads.models import Lead, LeadActivity
from leads.tests.factories import BootcampFactory, LeadFactory

Status = Lead.Status
Kind = LeadActivity.Kind


def kinds(lead):
    return [a.kind for a in lead.activities.order_by("created_at", "id")]


# --- lead_capture ----------------------------------------------------------------


def test_capture_creates_a_new_lead_with_a_created_entry(db, sales_user):
    bootcamp = BootcampFactory()
    lead, created = services.lead_capture(
        full_name="  Ana Lima ",
        email="Ana.Lima@Example.ORG ",
        phone="+351 912 345 678",
        source=Lead.Source.ADS,
        utm_source="google",
        utm_medium="cpc",
        utm_campaign="spring",
        message="Tell me more",
        bootcamp=bootcamp,
    )
    assert created
    lead.refresh_from_db()
    assert (lead.full_name, lead.email, lead.status, lead.source) == (
        "Ana Lima",
        "ana.lima@example.org",
        Status.NEW,
        "ADS",
    )
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("google", "cpc", "spring")
    assert lead.bootcamp == bootcamp and lead.owner is None
    [entry] = lead.activities.all()
    assert entry.kind == Kind.CREATED and entry.actor is None and entry.body == "Tell me more"
    assert entry.data["bootcamp"] == {"id": bootcamp.pk, "title": bootcamp.title}


def test_capture_emails_prospect_and_every_active_sales_user_after_commit(
    make_user, django_capture_on_commit_callbacks, mailoutbox, settings
):
    make_user(User.Role.SALES, email="s1@example.com")
    make_user(User.Role.SALES, email="s2@example.com")
    make_user(User.Role.SALES, email="gone@example.com", is_active=False)
    make_user(User.Role.ADMIN, email="boss@example.com")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.lead_capture(full_name="Ana", email="ana@example.org", message="Hello there")
    assert mailoutbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    # One message per recipient (the outbox tracks, and suppresses, each address on its own).
    assert len(mailoutbox) == 3
    prospect, *sales = mailoutbox
    assert prospect.to == ["ana@example.org"]
    assert "We received your request" in prospect.subject
    assert sorted(m.to[0] for m in sales) == ["s1@example.com", "s2@example.com"]
    assert all(len(m.to) == 1 and m.subject == "New lead: Ana" for m in sales)
    lead = Lead.objects.get()
    assert all(
        "Hello there" in m.body and f"{settings.SITE_URL}/sales/leads/{lead.pk}/" in m.body for m in sales
    )
    assert all("Source:   Website\n" in m.body for m in sales)  # the label, not WEBSITE


def test_a_lead_sending_the_form_again_is_answered_about_what_it_asked_now(
    make_user, django_capture_on_commit_callbacks, mailoutbox
):
    """The receipt named the bootcamp the lead first asked about, and the sales
    notice's subject the name it first gave, both unlike what was just sent."""
    make_user(User.Role.SALES, email="s1@example.com")
    web, ux = BootcampFactory(title="Web Dev"), BootcampFactory(title="UX Sprint")
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_capture(full_name="Pat Prospect", email="pat@example.org", bootcamp=web)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_capture(
            full_name="Patricia Prospect", email="pat@example.org", bootcamp=ux, message="Actually UX"
        )
    receipt, notice = mailoutbox
    assert receipt.subject == "We received your request about UX Sprint"
    assert "in UX Sprint." in receipt.body and "Web Dev" not in receipt.body
    assert notice.subject == "New submission from a lead: Patricia Prospect (UX Sprint)"
    assert "Bootcamp: UX Sprint" in notice.body


def test_a_lead_sending_the_form_over_and_over_tells_the_sales_team_three_times_an_hour(
    make_user, django_capture_on_commit_callbacks, mailoutbox
):
    """Anyone can send the form again and again with one address: like the
    prospect's receipts, the team's notices stop at three an hour, and every
    submission is still on the lead's timeline."""
    make_user(User.Role.SALES, email="s1@example.com")
    make_user(User.Role.SALES, email="s2@example.com")
    for n in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            lead, _ = services.lead_capture(
                full_name="Pat Prospect", email="pat@example.org", message=f"#{n}"
            )
    notices = [m for m in mailoutbox if m.to != ["pat@example.org"]]
    assert sorted(address for m in notices for address in m.to) == sorted(
        ["s1@example.com", "s2@example.com"] * 3
    )
    assert len(mailoutbox) - len(notices) == 3  # the receipts
    assert kinds(lead) == [Kind.CREATED] + [Kind.SUBMISSION] * 5

    # A rep's entries (calls taken) neither count nor are held back.
    rep = User.objects.get(email="s1@example.com")
    mailoutbox.clear()
    for n in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            services.lead_capture(
                full_name="Pat Prospect", email="pat@example.org", actor=rep, message=f"call {n}"
            )
    assert (
        sorted(address for m in mailoutbox if m.to != ["pat@example.org"] for address in m.to)
        == ["s2@example.com"] * 4
    )

    # An hour on, a new submission is told again.
    LeadActivity.objects.filter(lead=lead).update(
        created_at=timezone.now() - datetime.timedelta(hours=1, minutes=1)
    )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_capture(full_name="Pat Prospect", email="pat@example.org", message="#7")
    assert sorted(address for m in mailoutbox if m.to != ["pat@example.org"] for address in m.to) == [
        "s1@example.com",
        "s2@example.com",
    ]


def test_capture_with_an_owner_notifies_only_the_owner(
    make_user, sales_user, django_capture_on_commit_callbacks, mailoutbox
):
    make_user(User.Role.SALES, email="other@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        lead, _ = services.lead_capture(
            full_name="Ana", email="ana@example.org", owner=sales_user, actor=sales_user
        )
    assert lead.owner == sales_user
    assert lead.activities.get().actor == sales_user
    # The rep who entered it isn't mailed about their own entry.
    assert [m.to for m in mailoutbox] == [["ana@example.org"]]
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_capture(full_name="Bo", email="bo@example.org", owner=sales_user, actor=None)
    assert [m.to for m in mailoutbox] == [["bo@example.org"], ["sales@example.com"]]


def test_a_lead_whose_owner_left_sales_is_mailed_to_the_sales_team_not_to_them(
    make_user, django_capture_on_commit_callbacks, mailoutbox
):
    # Left by a role change made before owns_leads existed, or written by hand.
    former = make_user(User.Role.MENTOR, email="former@example.com")
    make_user(User.Role.SALES, email="s1@example.com")
    lead = LeadFactory(email="ana@example.org", owner=former)
    with django_capture_on_commit_callbacks(execute=True):
        again, created = services.lead_capture(full_name="Ana", email="ana@example.org", message="Still keen")
    assert (again.pk, created) == (lead.pk, False)
    assert [m.to for m in mailoutbox] == [["ana@example.org"], ["s1@example.com"]]
    assert "Still keen" in mailoutbox[1].body


def test_capture_owner_must_be_sales_or_admin(db, instructor_user):
    with pytest.raises(ValidationError) as exc:
        services.lead_capture(full_name="Ana", email="ana@example.org", owner=instructor_user)
    assert "owner" in exc.value.message_dict
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("phone", "call me maybe"),
        ("full_name", ""),
        ("full_name", "x" * 151),
        ("message", "x" * 5001),
    ],
)
def test_capture_validates_fields(db, field, value):
    data = {"full_name": "Ana", "email": "ana@example.org", field: value}
    with pytest.raises(ValidationError) as exc:
        services.lead_capture(**data)
    assert field in exc.value.message_dict
    assert not Lead.objects.exists()


JUNK = [("full_name", name) for name in JUNK_NAMES] + [("phone", phone) for phone in JUNK_PHONES]


@pytest.mark.parametrize(("field", "value"), JUNK)
def test_capture_and_update_refuse_control_characters_and_phones_without_digits(db, sales_user, field, value):
    data = {"full_name": "Ana", "email": "ana@example.org", field: value}
    with pytest.raises(ValidationError) as exc:
        services.lead_capture(**data)
    assert list(exc.value.message_dict) == [field]
    assert not Lead.objects.exists()

    lead = LeadFactory(full_name="Bea Costa")
    before = Lead.objects.filter(pk=lead.pk).values().get()
    with pytest.raises(ValidationError) as exc:
        services.lead_update(lead=lead, actor=sales_user, data={field: value})
    assert list(exc.value.message_dict) == [field]
    assert Lead.objects.filter(pk=lead.pk).values().get() == before
    assert not lead.activities.exists()


def test_second_submission_of_an_open_lead_joins_its_timeline(
    db, django_capture_on_commit_callbacks, mailoutbox, sales_user
):
    bootcamp = BootcampFactory()
    first, _ = services.lead_capture(full_name="Ana", email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        again, created = services.lead_capture(
            full_name="Ana L.",
            email="ANA@example.org",
            phone="+33 6 12 34 56 78",
            message="Still interested",
            bootcamp=bootcamp,
            utm_campaign="retarget",
        )
    assert not created and again.pk == first.pk
    assert Lead.objects.count() == 1
    again.refresh_from_db()
    # Blanks are filled in from the new submission; the name is kept.
    assert (again.full_name, again.phone, again.bootcamp) == ("Ana", "+33 6 12 34 56 78", bootcamp)
    assert kinds(again) == [Kind.CREATED, Kind.SUBMISSION]
    submission = again.activities.get(kind=Kind.SUBMISSION)
    assert submission.body == "Still interested"
    assert submission.data["full_name"] == "Ana L."
    assert submission.data["utm_campaign"] == "retarget"
    assert submission.data["filled"] == ["phone", "bootcamp"]
    assert [m.subject for m in mailoutbox][1].startswith("New submission from a lead")


@pytest.mark.parametrize("closed", [Status.LOST, Status.CONVERTED])
def test_a_closed_lead_does_not_absorb_a_new_submission(db, closed, make_user):
    student = make_user(User.Role.STUDENT)
    old = LeadFactory(email="ana@example.org", status=Status.LOST, lost_reason="Too expensive")
    if closed == Status.CONVERTED:
        enrollment = Enrollment.objects.create(
            student=student, bootcamp=BootcampFactory(), status=Enrollment.Status.ACTIVE
        )
        Lead.objects.filter(pk=old.pk).update(
            status=closed, converted_student=student, converted_enrollment=enrollment, lost_reason=""
        )
    lead, created = services.lead_capture(full_name="Ana", email="ana@example.org")
    assert created and lead.pk != old.pk
    assert Lead.objects.filter(email="ana@example.org").count() == 2


def test_capture_that_loses_the_insert_race_appends_to_the_winner(db, monkeypatch):
    """The look-up misses (another request has not committed yet); the insert
    then hits the partial unique constraint and the submission goes to the
    winner's lead. Simulated on any database; the real race is below."""
    winner = LeadFactory(email="ana@example.org")
    original_first = QuerySet.first
    misses = {"left": 1}

    def first_that_misses_once(self):
        if self.model is Lead and misses["left"]:
            misses["left"] -= 1
            return None
        return original_first(self)

    monkeypatch.setattr(QuerySet, "first", first_that_misses_once)
    lead, created = services.lead_capture(full_name="Ana", email="ana@example.org", message="race")
    assert not created and lead.pk == winner.pk
    assert Lead.objects.count() == 1
    assert lead.activities.get().kind == Kind.SUBMISSION


def test_open_lead_per_email_is_held_by_the_database(db):
    LeadFactory(email="ana@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.create(full_name="Dup", email="ana@example.org")


def test_open_lead_per_email_ignores_case_in_the_database(db):
    """Emails are stored lower-cased (normalize_email), so one open lead per
    email holds whatever case a raw write or a bug would use."""
    LeadFactory(email="ana@example.org")
    with pytest.raises(IntegrityError, match="lead_email_lower_case"), transaction.atomic():
        Lead.objects.create(full_name="Dup", email="Ana@Example.org")
    assert list(Lead.objects.values_list("email", flat=True)) == ["ana@example.org"]


@pytest.mark.parametrize("status", [Status.NEW, Status.CONTACTED, Status.QUALIFIED])
def test_lost_reason_only_on_a_lost_lead_is_held_by_the_database(db, status):
    """As reopening clears it: a raw write can't show an open lead's old reason."""
    lead = LeadFactory(status=Status.LOST, lost_reason="Chose another school")
    with pytest.raises(IntegrityError, match="lead_lost_reason_only_when_lost"), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(status=status)
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason) == (Status.LOST, "Chose another school")
    Lead.objects.filter(pk=lead.pk).update(status=status, lost_reason="")


def _race(n, target):
    """Run target(i) in n threads (each its own connection) released at once."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i):
        try:
            barrier.wait(timeout=10)
            results.append(target(i))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


@pytest.fixture
def slow_inserts(monkeypatch):
    """Widen the window between looking for an open lead and inserting one, so
    every racer looks before anyone commits."""
    original_save = Lead.save

    def slow_save(self, *args, **kwargs):
        if self._state.adding:
            time.sleep(0.1)
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(Lead, "save", slow_save)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_of_one_email_make_one_lead(slow_inserts):
    """N requests submit one email at the same moment, each in its own
    transaction: one lead, one CREATED and N-1 SUBMISSION entries, no error."""
    n = 8
    results, errors = _race(
        n, lambda i: services.lead_capture(full_name=f"Racer {i}", email="race@example.org", message=f"#{i}")
    )
    assert errors == []
    assert len(results) == n
    lead = Lead.objects.get(email="race@example.org")
    assert {found.pk for found, _ in results} == {lead.pk}
    assert sum(created for _, created in results) == 1
    assert lead.activities.filter(kind=Kind.CREATED).count() == 1
    assert lead.activities.filter(kind=Kind.SUBMISSION).count() == n - 1
    assert sorted(lead.activities.values_list("body", flat=True)) == sorted(f"#{i}" for i in range(n))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_check_then_insert_alone_loses_the_race(slow_inserts):
    """The control: a plain look-then-insert under the same race fails for all
    but one racer, so the test above really races (the constraint holds)."""

    def naive(i):
        if not Lead.objects.filter(email="race@example.org", status__in=Lead.OPEN_STATUSES).exists():
            Lead(full_name=f"Racer {i}", email="race@example.org").save()
        return i

    n = 8
    _results, errors = _race(n, naive)
    assert errors and all(isinstance(exc, IntegrityError) for exc in errors)
    assert Lead.objects.filter(email="race@example.org").count() == 1


# --- lead_update: transitions ------------------------------------------------------

ALLOWED = [
    (Status.NEW, Status.CONTACTED),
    (Status.NEW, Status.QUALIFIED),
    (Status.NEW, Status.LOST),
    (Status.CONTACTED, Status.QUALIFIED),
    (Status.CONTACTED, Status.LOST),
    (Status.QUALIFIED, Status.LOST),
    (Status.LOST, Status.NEW),
    (Status.LOST, Status.CONTACTED),
]
REFUSED = [
    (Status.CONTACTED, Status.NEW),
    (Status.QUALIFIED, Status.NEW),
    (Status.QUALIFIED, Status.CONTACTED),
    (Status.LOST, Status.QUALIFIED),
    (Status.NEW, Status.CONVERTED),
    (Status.QUALIFIED, Status.CONVERTED),
    (Status.LOST, Status.CONVERTED),
]


def _lead_in(status, **kwargs):
    if status == Status.LOST:
        kwargs.setdefault("lost_reason", "Went elsewhere")
    return LeadFactory(status=status, **kwargs)


@pytest.mark.parametrize(("start", "end"), ALLOWED)
def test_allowed_transitions(db, sales_user, start, end):
    lead = _lead_in(start)
    data = {"status": end}
    if end == Status.LOST:
        data["lost_reason"] = "Chose another school"
    lead = services.lead_update(lead=lead, actor=sales_user, data=data)
    lead.refresh_from_db()
    assert lead.status == end
    assert lead.lost_reason == ("Chose another school" if end == Status.LOST else "")
    entry = lead.activities.get()
    assert entry.kind == Kind.STATUS_CHANGE and entry.actor == sales_user
    assert (entry.data["from"], entry.data["to"]) == (start, end)


@pytest.mark.parametrize(("start", "end"), REFUSED)
def test_refused_transitions(db, sales_user, start, end):
    lead = _lead_in(start)
    with pytest.raises(ValidationError) as exc:
        services.lead_update(lead=lead, actor=sales_user, data={"status": end, "lost_reason": ""})
    assert "status" in exc.value.message_dict
    lead.refresh_from_db()
    assert lead.status == start and not lead.activities.exists()


def test_converted_is_final(db, sales_user):
    lead = _converted_lead(sales_user)
    for status in (Status.NEW, Status.CONTACTED, Status.LOST):
        with pytest.raises(ValidationError) as exc:
            services.lead_update(lead=lead, actor=sales_user, data={"status": status, "lost_reason": "x"})
        assert "status" in exc.value.message_dict or "lost_reason" in exc.value.message_dict
    lead.refresh_from_db()
    assert lead.status == Status.CONVERTED


def test_lost_needs_a_reason(db, sales_user):
    lead = LeadFactory()
    for data in ({"status": Status.LOST}, {"status": Status.LOST, "lost_reason": "   "}):
        with pytest.raises(ValidationError) as exc:
            services.lead_update(lead=lead, actor=sales_user, data=data)
        assert exc.value.message_dict == {"lost_reason": ["Say why the lead was lost."]}
    lead.refresh_from_db()
    assert lead.status == Status.NEW


def test_reason_without_losing_is_refused(db, sales_user):
    with pytest.raises(ValidationError) as exc:
        services.lead_update(lead=LeadFactory(), actor=sales_user, data={"lost_reason": "why"})
    assert "lost_reason" in exc.value.message_dict


def test_a_lost_reason_can_be_corrected(db, sales_user):
    lead = _lead_in(Status.LOST)
    lead = services.lead_update(lead=lead, actor=sales_user, data={"lost_reason": "Budget"})
    assert lead.lost_reason == "Budget"
    entry = lead.activities.get()
    assert entry.kind == Kind.STATUS_CHANGE and entry.data == {
        "from": "LOST",
        "to": "LOST",
        "lost_reason": "Budget",
    }


def test_reopening_fails_when_another_open_lead_holds_the_email(db, sales_user):
    lost = _lead_in(Status.LOST, email="ana@example.org")
    newer = LeadFactory(email="ana@example.org")
    with pytest.raises(Conflict) as exc:
        services.lead_update(lead=lost, actor=sales_user, data={"status": Status.NEW})
    assert exc.value.code == "open_lead_exists"
    assert f"#{newer.pk}" in str(exc.value)
    lost.refresh_from_db()
    assert lost.status == Status.LOST and not lost.activities.exists()


def test_a_lead_reopened_after_its_owner_left_sales_goes_back_to_nobody(db, make_user, sales_user):
    """A role change is refused while someone owns open leads, not closed ones:
    reopening one of those must not hand it to a mentor."""
    rep = make_user(User.Role.SALES, full_name="Rita Rep")
    gone, kept = _lead_in(Status.LOST, owner=rep), _lead_in(Status.LOST, owner=sales_user)
    User.objects.filter(pk=rep.pk).update(role=User.Role.MENTOR)

    reopened = services.lead_update(lead=gone, actor=sales_user, data={"status": Status.NEW})
    assert (reopened.status, reopened.owner) == (Status.NEW, None)
    gone.refresh_from_db()
    assert gone.owner is None
    entries = list(gone.activities.order_by("id").values_list("kind", "body"))
    assert entries == [
        (Kind.STATUS_CHANGE, "LOST → NEW"),
        (Kind.OWNER_CHANGE, "Owner: Rita Rep → — (no longer in sales)"),
    ]
    # An owner still in sales keeps it.
    assert services.lead_update(lead=kept, actor=sales_user, data={"status": Status.NEW}).owner == sales_user


def test_same_status_is_not_a_change(db, sales_user):
    lead = services.lead_update(lead=LeadFactory(), actor=sales_user, data={"status": Status.NEW})
    assert lead.status == Status.NEW and not lead.activities.exists()


def test_unknown_fields_are_refused(db, sales_user):
    with pytest.raises(ValidationError) as exc:
        services.lead_update(lead=LeadFactory(), actor=sales_user, data={"converted_at": timezone.now()})
    assert "converted_at" in exc.value.message_dict


# --- lead_update: owner, follow-up, contact -----------------------------------------


def test_owner_change_is_recorded(db, sales_user, admin_user):
    lead = LeadFactory()
    lead = services.lead_update(lead=lead, actor=admin_user, data={"owner": sales_user})
    assert lead.owner == sales_user
    lead = services.lead_update(lead=lead, actor=admin_user, data={"owner": admin_user})
    lead = services.lead_update(lead=lead, actor=admin_user, data={"owner": None})
    entries = list(lead.activities.order_by("id"))
    assert [e.kind for e in entries] == [Kind.OWNER_CHANGE] * 3
    assert entries[0].data == {"from": None, "to": {"id": str(sales_user.pk), "name": "Sam Sales"}}
    assert entries[0].body == "Owner: — → Sam Sales"
    assert entries[2].data["to"] is None


@pytest.mark.parametrize("role", [User.Role.INSTRUCTOR, User.Role.MENTOR, User.Role.STUDENT])
def test_owner_must_be_sales_or_admin(db, sales_user, make_user, role):
    with pytest.raises(ValidationError) as exc:
        services.lead_update(lead=LeadFactory(), actor=sales_user, data={"owner": make_user(role)})
    assert list(exc.value.message_dict) == ["owner"]


def test_owner_must_be_active(db, sales_user, make_user):
    gone = make_user(User.Role.SALES, is_active=False)
    with pytest.raises(ValidationError) as exc:
        services.lead_update(lead=LeadFactory(), actor=sales_user, data={"owner": gone})
    assert list(exc.value.message_dict) == ["owner"]


def test_follow_up_change_is_recorded(db, sales_user):
    when = timezone.now().replace(microsecond=0) + datetime.timedelta(days=2)
    lead = services.lead_update(lead=LeadFactory(), actor=sales_user, data={"next_follow_up_at": when})
    assert lead.next_follow_up_at == when
    entry = lead.activities.get()
    assert entry.kind == Kind.FOLLOW_UP_CHANGE
    assert entry.data == {"from": None, "to": when.isoformat()}


@pytest.mark.parametrize(
    ("offset", "code"),
    [
        (-datetime.timedelta(hours=36, minutes=1), "follow_up_past"),
        (datetime.timedelta(days=731, minutes=1), "follow_up_too_far"),
    ],
)
def test_a_follow_up_is_set_within_its_window(db, sales_user, offset, code):
    lead = LeadFactory()
    with pytest.raises(ValidationError) as exc:
        services.lead_set_follow_up(lead=lead, actor=sales_user, when=timezone.now() + offset)
    assert exc.value.error_dict["next_follow_up_at"][0].code == code
    lead.refresh_from_db()
    assert lead.next_follow_up_at is None and not lead.activities.exists()
    # Just inside either end is fine, and so is keeping a date already set.
    for inside in (-datetime.timedelta(hours=35), datetime.timedelta(days=730)):
        services.lead_set_follow_up(lead=lead, actor=sales_user, when=timezone.now() + inside)
    old = timezone.now() - datetime.timedelta(days=30)
    kept = LeadFactory(next_follow_up_at=old)
    services.lead_update(lead=kept, actor=sales_user, data={"next_follow_up_at": old, "full_name": "Kept"})
    kept.refresh_from_db()
    assert kept.next_follow_up_at == old and kept.full_name == "Kept"


def test_contact_changes_are_recorded_in_one_entry(db, sales_user):
    bootcamp = BootcampFactory(title="Data Science")
    lead = LeadFactory(full_name="Ana", email="ana@example.org", phone="")
    lead = services.lead_update(
        lead=lead,
        actor=sales_user,
        data={
            "full_name": "Ana Lima",
            "email": " ANA.LIMA@example.org",
            "phone": "+351 912 345 678",
            "bootcamp": bootcamp,
            "source": Lead.Source.EVENT,
        },
    )
    lead.refresh_from_db()
    assert (lead.full_name, lead.email, lead.phone, lead.bootcamp, lead.source) == (
        "Ana Lima",
        "ana.lima@example.org",
        "+351 912 345 678",
        bootcamp,
        "EVENT",
    )
    entry = lead.activities.get()
    assert entry.kind == Kind.CONTACT_CHANGE
    assert entry.data["changes"]["email"] == {"from": "ana@example.org", "to": "ana.lima@example.org"}
    assert entry.data["changes"]["bootcamp"] == {
        "from": None,
        "to": {"id": bootcamp.pk, "title": "Data Science"},
    }
    assert "Email: ana@example.org → ana.lima@example.org" in entry.body


def test_one_entry_per_kind_of_change(db, sales_user):
    lead = services.lead_update(
        lead=LeadFactory(),
        actor=sales_user,
        data={
            "status": Status.CONTACTED,
            "owner": sales_user,
            "next_follow_up_at": timezone.now(),
            "phone": "+1 555 0100",
        },
    )
    assert sorted(kinds(lead)) == sorted(
        [Kind.STATUS_CHANGE, Kind.OWNER_CHANGE, Kind.FOLLOW_UP_CHANGE, Kind.CONTACT_CHANGE]
    )


def test_each_kind_of_change_has_its_own_service(db, sales_user, admin_user):
    lead = LeadFactory(owner=None)
    when = timezone.now() + datetime.timedelta(days=1)
    services.lead_set_status(lead=lead, actor=sales_user, status=Status.CONTACTED)
    services.lead_assign(lead=lead, actor=sales_user, owner=admin_user)
    services.lead_set_follow_up(lead=lead, actor=sales_user, when=when)
    services.lead_set_status(lead=lead, actor=sales_user, status=Status.LOST, lost_reason=" Too far ")
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason, lead.owner, lead.next_follow_up_at) == (
        Status.LOST,
        "Too far",
        admin_user,
        when,
    )
    entries = lead.activities.order_by("created_at", "id")
    assert [(e.kind, e.actor) for e in entries] == [
        (Kind.STATUS_CHANGE, sales_user),
        (Kind.OWNER_CHANGE, sales_user),
        (Kind.FOLLOW_UP_CHANGE, sales_user),
        (Kind.STATUS_CHANGE, sales_user),
    ]
    assert entries.last().body == "CONTACTED → LOST: Too far"
    # Giving what is already there changes nothing and records nothing.
    services.lead_assign(lead=lead, actor=sales_user, owner=admin_user)
    services.lead_set_follow_up(lead=lead, actor=sales_user, when=when)
    assert lead.activities.count() == 4


def test_a_mixed_update_is_taken_whole_or_not_at_all(db, sales_user, admin_user):
    lead = LeadFactory(owner=None, phone="")
    with pytest.raises(ValidationError) as exc:
        services.lead_update(
            lead=lead,
            actor=sales_user,
            data={"owner": admin_user, "phone": "+1 555 0100", "status": Status.LOST},
        )
    assert exc.value.message_dict == {"lost_reason": ["Say why the lead was lost."]}
    lead.refresh_from_db()
    assert (lead.status, lead.owner, lead.phone) == (Status.NEW, None, "")
    assert not lead.activities.exists()


def test_email_taken_by_another_open_lead_is_a_400_on_email(db, sales_user):
    LeadFactory(email="taken@example.org")
    lead = LeadFactory(email="ana@example.org")
    with pytest.raises(ValidationError) as exc:
        services.lead_update(lead=lead, actor=sales_user, data={"email": "Taken@example.org"})
    assert "email" in exc.value.message_dict
    lead.refresh_from_db()
    assert lead.email == "ana@example.org"


def test_contact_fields_are_validated(db, sales_user):
    with pytest.raises(ValidationError) as exc:
        services.lead_update(lead=LeadFactory(), actor=sales_user, data={"phone": "nope", "email": "x"})
    assert set(exc.value.message_dict) == {"phone", "email"}


# --- notes ------------------------------------------------------------------------


def test_add_note(db, sales_user):
    lead = LeadFactory()
    note = services.lead_add_note(lead=lead, actor=sales_user, body="  Called, no answer.  ")
    assert (note.kind, note.body, note.actor, note.lead) == (
        Kind.NOTE,
        "Called, no answer.",
        sales_user,
        lead,
    )


@pytest.mark.parametrize("body", ["", "   ", "x" * 10001])
def test_note_must_have_a_sensible_body(db, sales_user, body):
    with pytest.raises(ValidationError) as exc:
        services.lead_add_note(lead=LeadFactory(), actor=sales_user, body=body)
    assert "body" in exc.value.message_dict
    assert not LeadActivity.objects.exists()


# --- conversion -------------------------------------------------------------------


def _converted_lead(actor, **kwargs):
    lead = LeadFactory(**kwargs)
    return services.lead_convert(lead=lead, actor=actor, bootcamp=BootcampFactory())


def test_convert_creates_the_student_enrolls_and_invites(
    db, sales_user, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp = BootcampFactory(title="Web Dev")
    lead = LeadFactory(
        full_name="Ana Lima", email="ana@example.org", phone="+33 6 12 34 56 78", status=Status.QUALIFIED
    )
    with django_capture_on_commit_callbacks(execute=True):
        lead = services.lead_convert(lead=lead, actor=sales_user, bootcamp=bootcamp)
    lead.refresh_from_db()
    student = User.objects.get(email="ana@example.org")
    assert (student.role, student.full_name, student.phone) == (
        User.Role.STUDENT,
        "Ana Lima",
        "+33 6 12 34 56 78",
    )
    assert not student.has_usable_password()
    assert lead.status == Status.CONVERTED
    assert lead.converted_student == student
    assert lead.converted_enrollment.student == student
    assert lead.converted_enrollment.bootcamp == bootcamp
    assert lead.converted_enrollment.status == Enrollment.Status.ACTIVE
    assert lead.converted_at is not None
    assert lead.bootcamp == bootcamp  # the bootcamp of interest was empty
    entry = lead.activities.get()
    assert entry.kind == Kind.CONVERSION and entry.actor == sales_user
    assert entry.data["enrollment"] == {"id": lead.converted_enrollment_id, "status": "ACTIVE"}
    assert entry.data["student_created"] is True and entry.data["student_email_verified"] is False
    # One email for one action: the invitation says they're enrolled, and how to sign in.
    (invitation,) = [m for m in mailoutbox if m.to == ["ana@example.org"]]
    assert "set your Cohortly password" in invitation.subject
    assert "/reset-password?uid=" in invitation.body and "token=" in invitation.body
    assert "password:" not in invitation.body.lower()
    assert f"You are enrolled in Web Dev, starting {bootcamp.start_date:%-d %B %Y}." in invitation.body


def test_convert_reuses_an_existing_student(
    db, sales_user, student_user, django_capture_on_commit_callbacks, mailoutbox
):
    lead = LeadFactory(email="STUDENT@example.com".lower())
    with django_capture_on_commit_callbacks(execute=True):
        lead = services.lead_convert(lead=lead, actor=sales_user, bootcamp=BootcampFactory())
    assert lead.converted_student == student_user
    assert User.objects.filter(email="student@example.com").count() == 1
    entry = lead.activities.get()
    assert entry.data["student_created"] is False and entry.data["student_email_verified"] is True
    # A verified student keeps today's flow: the enrollment's email, no set-password link.
    assert not any("set your Cohortly password" in m.subject for m in mailoutbox)
    assert not any("reset-password" in m.body for m in mailoutbox)
    assert [m.to for m in mailoutbox] == [["student@example.com"]]


def test_convert_onto_an_unverified_student_sends_the_set_password_link(
    db, sales_user, make_user, django_capture_on_commit_callbacks, mailoutbox
):
    """Anyone may have registered the lead's address before the lead did: the
    account is enrolled, and the address's owner is sent the link that makes
    the account theirs (the holder of its password can't sign in meanwhile)."""
    holder = make_user(email="ana@example.org", email_verified_at=None)
    lead = LeadFactory(email="ana@example.org", full_name="Ana Lima")
    with django_capture_on_commit_callbacks(execute=True):
        lead = services.lead_convert(lead=lead, actor=sales_user, bootcamp=BootcampFactory(title="Web Dev"))
    assert lead.converted_student == holder and lead.converted_enrollment.student == holder
    entry = lead.activities.get()
    assert entry.data["student_created"] is False and entry.data["student_email_verified"] is False
    invitation = next(m for m in mailoutbox if "set your Cohortly password" in m.subject)
    assert invitation.to == ["ana@example.org"]
    assert "/reset-password?uid=" in invitation.body
    assert "nobody confirmed that the address belongs to it" in invitation.body
    assert "any password set before stops working" in invitation.body
    holder.refresh_from_db()
    assert holder.email_verified_at is None and holder.has_usable_password()


def test_convert_without_notify_sends_no_link_even_to_an_unverified_student(
    db, sales_user, make_user, django_capture_on_commit_callbacks, mailoutbox
):
    make_user(email="ana@example.org", email_verified_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_convert(
            lead=LeadFactory(email="ana@example.org"),
            actor=sales_user,
            bootcamp=BootcampFactory(),
            notify=False,
        )
    assert mailoutbox == []


def test_convert_into_a_full_bootcamp_waitlists(db, sales_user, make_user):
    bootcamp = BootcampFactory(capacity=1)
    Enrollment.objects.create(student=make_user(), bootcamp=bootcamp, status=Enrollment.Status.ACTIVE)
    lead = services.lead_convert(lead=LeadFactory(), actor=sales_user, bootcamp=bootcamp)
    assert lead.status == Status.CONVERTED
    assert lead.converted_enrollment.status == Enrollment.Status.WAITLISTED
    assert "waitlisted" in lead.activities.get().body


def test_a_converted_leads_bootcamp_of_interest_stays_on_its_record(db, sales_user):
    """Through the service, so the API and the admin both refuse it: the lead would
    otherwise name a bootcamp it never asked about beside its enrollment's."""
    camp, other = BootcampFactory(title="Web"), BootcampFactory(title="Data")
    lead = services.lead_convert(lead=LeadFactory(bootcamp=other), actor=sales_user, bootcamp=camp)
    assert lead.bootcamp == other  # what it asked about, kept as history
    for new in (camp, None):
        with pytest.raises(ValidationError) as exc:
            services.lead_update(lead=lead, actor=sales_user, data={"bootcamp": new})
        assert exc.value.error_dict["bootcamp"][0].code == "lead_converted"
    assert Lead.objects.get(pk=lead.pk).bootcamp == other
    # Unchanged is no change, and no refusal (a PATCH or form repeating every field).
    services.lead_update(lead=lead, actor=sales_user, data={"bootcamp": other, "phone": "+44 20 7946 0000"})
    assert Lead.objects.get(pk=lead.pk).phone == "+44 20 7946 0000"


def test_converting_clears_the_follow_up_on_the_timeline_and_none_can_be_set_after(db, sales_user):
    when = timezone.now() + datetime.timedelta(days=2)
    lead = LeadFactory(owner=sales_user, next_follow_up_at=when)
    lead = services.lead_convert(lead=lead, actor=sales_user, bootcamp=BootcampFactory())
    assert Lead.objects.get(pk=lead.pk).next_follow_up_at is None
    entry = lead.activities.get(kind=LeadActivity.Kind.FOLLOW_UP_CHANGE)
    assert (entry.actor, entry.data) == (sales_user, {"from": when.isoformat(), "to": None})

    with pytest.raises(ValidationError) as exc:
        services.lead_update(lead=lead, actor=sales_user, data={"next_follow_up_at": when})
    assert exc.value.error_dict["next_follow_up_at"][0].code == "lead_converted"
    assert Lead.objects.get(pk=lead.pk).next_follow_up_at is None
    # Clearing what is already clear is no change, and no refusal.
    services.lead_update(lead=lead, actor=sales_user, data={"next_follow_up_at": None})
    assert lead.activities.filter(kind=LeadActivity.Kind.FOLLOW_UP_CHANGE).count() == 1


def test_converting_twice_is_a_conflict(db, sales_user):
    lead = _converted_lead(sales_user)
    with pytest.raises(Conflict) as exc:
        services.lead_convert(lead=lead, actor=sales_user, bootcamp=BootcampFactory())
    assert exc.value.code == "already_converted"
    assert Enrollment.objects.count() == 1


def test_a_lost_lead_must_be_reopened_before_converting(db, sales_user):
    lead = _lead_in(Status.LOST)
    with pytest.raises(Conflict) as exc:
        services.lead_convert(lead=lead, actor=sales_user, bootcamp=BootcampFactory())
    assert exc.value.code == "lead_lost"
    assert not User.objects.filter(email=lead.email).exists()


def test_convert_refuses_a_staff_email(db, sales_user, instructor_user):
    lead = LeadFactory(email="instructor@example.com")
    with pytest.raises(ValidationError) as exc:
        services.lead_convert(lead=lead, actor=sales_user, bootcamp=BootcampFactory())
    assert "belongs to an account that is not a student's" in exc.value.messages[0]
    lead.refresh_from_db()
    assert lead.status == Status.NEW and not Enrollment.objects.exists()


@pytest.mark.parametrize(
    "bootcamp_kwargs",
    [
        {"status": Bootcamp.Status.DRAFT},
        {
            "start_date": datetime.date(2020, 1, 1),
            "end_date": datetime.date(2020, 3, 1),
        },
    ],
)
def test_failed_enrollment_rolls_everything_back(
    db, sales_user, bootcamp_kwargs, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp = BootcampFactory(**bootcamp_kwargs)
    lead = LeadFactory(email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as exc:
        services.lead_convert(lead=lead, actor=sales_user, bootcamp=bootcamp)
    assert "bootcamp" in exc.value.message_dict
    assert not User.objects.filter(email="ana@example.org").exists()
    lead.refresh_from_db()
    assert lead.status == Status.NEW and lead.converted_student is None
    assert not lead.activities.exists()
    assert mailoutbox == []


def test_convert_of_a_student_already_enrolled_is_a_conflict(db, sales_user, student_user):
    bootcamp = BootcampFactory()
    Enrollment.objects.create(student=student_user, bootcamp=bootcamp, status=Enrollment.Status.ACTIVE)
    lead = LeadFactory(email="student@example.com")
    with pytest.raises(Conflict):
        services.lead_convert(lead=lead, actor=sales_user, bootcamp=bootcamp)
    lead.refresh_from_db()
    assert lead.status == Status.NEW


# --- registration -----------------------------------------------------------------


def test_link_registered_user_writes_the_timeline(db, student_user):
    lead = LeadFactory(email="student@example.com", status=Status.CONTACTED)
    services.lead_link_registered_user(user=student_user)
    entry = lead.activities.get()
    assert entry.kind == Kind.USER_LINKED and entry.actor == student_user
    assert entry.data == {"user": {"id": str(student_user.pk), "name": "Stella Student"}}
    lead.refresh_from_db()
    assert lead.status == Status.CONTACTED and lead.converted_student is None


def test_link_registered_user_ignores_closed_leads(db, student_user):
    lead = _lead_in(Status.LOST, email="student@example.com")
    services.lead_link_registered_user(user=student_user)
    assert not lead.activities.exists()


def test_link_registered_user_records_nothing_for_an_unproven_account(db, make_user):
    """Anyone can register someone else's address: until it is proven, the lead
    says nothing of an account."""
    user = make_user(email="ana@example.org", email_verified_at=None)
    lead = LeadFactory(email="ana@example.org")
    services.lead_link_registered_user(user=user)
    assert not lead.activities.exists()


# --- selectors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        (User.Role.ADMIN, True),
        (User.Role.SALES, True),
        (User.Role.INSTRUCTOR, False),
        (User.Role.MENTOR, False),
        (User.Role.STUDENT, False),
    ],
)
def test_lead_list_for_scopes_by_role(db, make_user, role, sees):
    lead = LeadFactory()
    user = make_user(role)
    assert list(selectors.lead_list_for(user)) == ([lead] if sees else [])
    if sees:
        assert selectors.lead_get_for(user, lead.pk) == lead
    else:
        with pytest.raises(Http404):
            selectors.lead_get_for(user, lead.pk)


def test_lead_list_for_anonymous_is_empty(db):
    from django.contrib.auth.models import AnonymousUser

    LeadFactory()
    assert not selectors.lead_list_for(AnonymousUser()).exists()
    assert not selectors.lead_list_for(None).exists()


@pytest.mark.parametrize("pk", ["abc", None, 10**30, 999])
def test_lead_get_for_unknown_is_404(db, sales_user, pk):
    with pytest.raises(Http404):
        selectors.lead_get_for(sales_user, pk)


def test_activity_list_newest_first(db, sales_user, django_assert_num_queries):
    lead = LeadFactory()
    first = services.lead_add_note(lead=lead, actor=sales_user, body="one")
    second = services.lead_add_note(lead=lead, actor=sales_user, body="two")
    with django_assert_num_queries(1):
        entries = list(selectors.lead_activity_list(lead=lead))
        assert [e.actor.full_name for e in entries] == ["Sam Sales"] * 2
    assert entries == [second, first]


def test_status_counts_every_status_in_one_query(db, django_assert_num_queries):
    LeadFactory.create_batch(3)
    LeadFactory(status=Status.CONTACTED)
    _lead_in(Status.LOST)
    with django_assert_num_queries(1):
        counts = selectors.lead_status_counts(Lead.objects.order_by("full_name"))
    assert counts == {"NEW": 3, "CONTACTED": 1, "QUALIFIED": 0, "CONVERTED": 0, "LOST": 1}
    assert list(counts) == ["NEW", "CONTACTED", "QUALIFIED", "CONVERTED", "LOST"]
    assert selectors.lead_status_counts(Lead.objects.filter(status=Status.NEW))["CONTACTED"] == 0


def test_follow_ups_due(db, sales_user, make_user):
    other = make_user(User.Role.SALES)
    now = timezone.now()
    tonight = selectors.end_of_today(now) - datetime.timedelta(minutes=1)
    overdue = LeadFactory(owner=sales_user, next_follow_up_at=now - datetime.timedelta(days=3))
    today = LeadFactory(owner=sales_user, next_follow_up_at=tonight, status=Status.QUALIFIED)
    LeadFactory(owner=sales_user, next_follow_up_at=now + datetime.timedelta(days=2))  # later
    LeadFactory(owner=sales_user)  # none set
    LeadFactory(owner=other, next_follow_up_at=now - datetime.timedelta(days=1))  # not mine
    _lead_in(Status.LOST, owner=sales_user, next_follow_up_at=now - datetime.timedelta(days=1))  # closed
    assert list(selectors.lead_follow_ups_due(user=sales_user, now=now)) == [overdue, today]


def test_a_closed_lead_of_someone_who_left_sales_stays_editable(db, sales_user, make_user):
    former = make_user(User.Role.SALES)
    lead = LeadFactory(owner=former, status=Status.LOST, lost_reason="Chose another school")
    User.objects.filter(pk=former.pk).update(role=User.Role.MENTOR)  # left sales, owning only history
    lead = services.lead_update(lead=lead, actor=sales_user, data={"phone": "+44 20 7946 0001"})
    assert (lead.phone, lead.owner_id) == ("+44 20 7946 0001", former.pk)
    with pytest.raises(ValidationError) as exc:  # giving a lead to them is still refused
        services.lead_update(lead=LeadFactory(), actor=sales_user, data={"owner": former})
    assert exc.value.error_dict["owner"][0].code == "invalid_owner"


def test_converting_an_unconfirmed_lead_still_announces_whom_it_promotes(
    db, sales_user, make_user, django_capture_on_commit_callbacks, mailoutbox
):
    """Only the converted student's own enrollment email gives way to the
    invitation: a waiting student promoted on the way is told, as ever."""
    from enrollments.models import Enrollment
    from enrollments.services import enrollment_create

    bootcamp = BootcampFactory(title="Web Dev", capacity=1)
    first, waiting = make_user(User.Role.STUDENT), make_user(User.Role.STUDENT)
    enrollment_create(student=first, bootcamp=bootcamp, notify=False)
    enrollment_create(student=waiting, bootcamp=bootcamp, notify=False)
    Enrollment.objects.filter(student=first).update(status="CANCELLED")  # a seat freed, nobody promoted yet
    lead = LeadFactory(email="ana@example.org", status=Status.QUALIFIED)
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_convert(lead=lead, actor=sales_user, bootcamp=bootcamp)
    by_address = {m.to[0]: m for m in mailoutbox}
    assert "opened up and it is now yours" in by_address[waiting.email].body
    invitation = by_address["ana@example.org"]
    assert "set your Cohortly password" in invitation.subject
    assert "You are on the waitlist of Web Dev, number 1 in line" in invitation.body
    assert len([m for m in mailoutbox if m.to == ["ana@example.org"]]) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_that_waited_for_another_reads_the_lead_as_that_one_left_it(make_user):
    """Rep A assigns an unowned lead to Sam while rep B unassigns it. B waited for
    A's lock, then read A's owner_id with the owner row joined before A's change
    (none): it cleared the owner with no timeline entry."""
    from django import db

    sam = make_user(User.Role.SALES, full_name="Sam Sales")
    rep_a, rep_b = make_user(User.Role.SALES), make_user(User.Role.SALES)
    lead = LeadFactory(owner=None)
    a_holds, a_may_commit, errors = threading.Event(), threading.Event(), []

    def assign():
        try:
            with transaction.atomic():
                services.lead_assign(lead=lead, actor=rep_a, owner=sam)
                a_holds.set()
                a_may_commit.wait(10)
        except Exception as exc:
            errors.append(exc)
        finally:
            db.connection.close()

    def unassign():
        try:
            services.lead_assign(lead=lead, actor=rep_b, owner=None)
        except Exception as exc:
            errors.append(exc)
        finally:
            db.connection.close()

    first = threading.Thread(target=assign)
    first.start()
    assert a_holds.wait(10)
    second = threading.Thread(target=unassign)
    second.start()
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:  # until B waits for A's lock
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                break
            time.sleep(0.02)
    a_may_commit.set()
    first.join(10)
    second.join(10)
    assert errors == []
    lead.refresh_from_db()
    assert lead.owner is None
    changes = list(lead.activities.filter(kind=Kind.OWNER_CHANGE).order_by("pk").values_list("actor", "body"))
    assert changes == [(rep_a.pk, "Owner: — → Sam Sales"), (rep_b.pk, "Owner: Sam Sales → —")]
