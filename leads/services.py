"""Lead writes: capture, the pipeline, notes and conversion.

Every change is recorded on the lead's timeline (LeadActivity) by the service
that makes it, so the API, the sales pages and the admin share one history.

Invariants the database holds (see leads.models):
- one open lead (NEW, CONTACTED, QUALIFIED) per email: the partial unique
  constraint `lead_one_open_per_email`. Services insert or reopen inside a
  savepoint and treat its IntegrityError as "someone else holds the email",
  so two simultaneous submissions can never both create an open lead;
- a LOST lead has a reason, a CONVERTED lead has its student and enrollment.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User, normalize_email
from accounts.selectors import users_held
from accounts.services import user_create
from bootcamps.models import Bootcamp
from bootcamps.services import bootcamp_hold
from cohortly.emails import PER_ADDRESS_LIMIT, send_templated_email
from cohortly.errors import Conflict
from cohortly.metrics import LEADS, count_after_commit
from cohortly.models import field_values, save_changes
from enrollments.services import enrollment_create, enrollment_invite
from leads.models import Lead, LeadActivity

Status = Lead.Status
Kind = LeadActivity.Kind

#: Allowed status changes (lead_set_status). CONVERTED is reached only by
#: lead_convert and is final; LOST may be reopened as NEW or CONTACTED.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.CONTACTED, Status.QUALIFIED, Status.LOST}),
    Status.CONTACTED: frozenset({Status.QUALIFIED, Status.LOST}),
    Status.QUALIFIED: frozenset({Status.LOST}),
    Status.LOST: frozenset({Status.NEW, Status.CONTACTED}),
    Status.CONVERTED: frozenset(),
}

#: Roles that may own leads.
OWNER_ROLES = (User.Role.SALES, User.Role.ADMIN)

UPDATABLE_FIELDS = frozenset(
    {
        "status",
        "lost_reason",
        "owner",
        "next_follow_up_at",
        "full_name",
        "email",
        "phone",
        "bootcamp",
        "source",
    }
)
CONTACT_FIELDS = ("full_name", "email", "phone", "bootcamp", "source")

#: How far a new follow-up may lie in the past (earlier today, in any time
#: zone and on a 25-hour day) and ahead (two years, a leap day included: a
#: bootcamp's sales horizon). Outside that window a date is a typo, and one in
#: year 9999 could not even be shown in a time zone east of UTC.
FOLLOW_UP_PAST = timedelta(hours=36)
FOLLOW_UP_AHEAD = timedelta(days=731)

_CAPTURE_ATTEMPTS = 3


# --- helpers ------------------------------------------------------------------


def lead_allowed_transitions(lead: Lead) -> list[str]:
    """The statuses lead_set_status accepts from this lead's current status (for forms)."""
    return [status for status in Status.values if status in TRANSITIONS[lead.status]]


def lead_url(lead: Lead) -> str:
    """Where a sales user opens this lead (the sales workspace's lead page)."""
    from django.conf import settings

    return settings.SITE_URL + reverse("sales:lead_detail", args=[lead.pk])


def _invalid(field: str, message: str, code: str) -> ValidationError:
    """A field error with a stable code (documented on the API's serializers)."""
    return ValidationError({field: ValidationError(message, code=code)})


def _activity(lead: Lead, kind: str, *, actor: User | None, body: str = "", data=None) -> LeadActivity:
    return LeadActivity.objects.create(lead=lead, kind=kind, actor=actor, body=body, data=data or {})


def _user_ref(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": str(user.pk), "name": user.full_name or user.email}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Bootcamp):
        return {"id": value.pk, "title": value.title}
    return value


def _display(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, datetime):
        # Read in many places and zones (the API, the admin): the zone is said.
        return timezone.localtime(value, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def follow_up_body(old: datetime | None, new: datetime | None) -> str:
    """A follow-up change's text on the timeline (the API's and the admin's; the
    sales pages show the times in the reader's zone from the entry's data)."""
    return f"Follow-up: {_display(old)} → {_display(new)}"


def _clean(lead: Lead, *, exclude: list[str] | None = None) -> None:
    # Constraints are left to the database (savepoint + IntegrityError), where
    # they hold under concurrency; full_clean would only check-then-insert.
    lead.full_clean(exclude=exclude, validate_constraints=False)


def _sales_recipients(lead: Lead) -> list[str]:
    """The lead's owner while they may still own leads (active, SALES or ADMIN);
    else every active SALES user, so nobody outside sales is mailed a lead."""
    if lead.owner_id and lead.owner.is_active and lead.owner.role in OWNER_ROLES:
        return [lead.owner.email]
    return list(
        User.objects.filter(role=User.Role.SALES, is_active=True)
        .order_by("email")
        .values_list("email", flat=True)
    )


def _notify_capture(lead: Lead, *, created: bool, submission: dict, actor: User | None) -> None:
    """The prospect's receipt and the sales team's notice, both of what was just
    sent (a lead sending the form again may ask about another bootcamp, under
    another name), not of what the lead already held. Whoever entered it (a rep
    who took a call) isn't told about their own entry."""
    context = {"lead": lead, "created": created, "submission": submission}
    send_templated_email(to=lead.email, template="lead_received", context=context, limit_per_address=True)
    if not created and actor is None and _sales_told_enough(lead):
        return
    send_templated_email(
        to=[address for address in _sales_recipients(lead) if actor is None or address != actor.email],
        template="lead_new_for_sales",
        context={**context, "source": Lead.Source(submission["source"]).label, "url": lead_url(lead)},
    )


def _sales_told_enough(lead: Lead) -> bool:
    """Whether the sales team has had its PER_ADDRESS_LIMIT of notices of this lead's
    public form sends in the window, as its receipts are held: anyone can send the
    form again and again, and each would email every rep. The rest are on its
    timeline. Staff's own entries count for nothing (a rep takes calls). Called
    with the lead's row locked (its submissions counted one at a time)."""
    most, window = PER_ADDRESS_LIMIT
    recent = lead.activities.filter(
        kind__in=[Kind.CREATED, Kind.SUBMISSION], actor__isnull=True, created_at__gte=timezone.now() - window
    ).count()
    return recent > most  # this submission's entry included


def _lock_owner(pk) -> User | None:
    """The owner's row, held (accounts.selectors.users_held), or None when gone:
    a role change arriving now is refused (owns_leads)."""
    return next(iter(users_held([pk])), None)


def _refuse_owner(owner: User | None) -> None:
    """A 400 on owner unless `owner` (as given) may own leads."""
    if owner is not None and (owner.role not in OWNER_ROLES or not owner.is_active):
        raise _invalid("owner", "A lead's owner must be an active sales or admin user.", "invalid_owner")


def _check_owner(owner: User | None) -> User | None:
    """The owner as stored now (locked), if they may own leads; else a 400 on owner."""
    if owner is None:
        return None
    stored = _lock_owner(owner.pk)
    _refuse_owner(stored or owner)
    if stored is None:
        raise _invalid("owner", "A lead's owner must be an active sales or admin user.", "invalid_owner")
    return stored


#: The error code of a role change refused by on_user_role_changing.
OWNS_LEADS = "owns_leads"


def on_user_role_changing(sender, *, user: User, role: str, **kwargs) -> None:
    """accounts.signals.user_role_changing: a SALES or ADMIN user keeps a role
    that may own leads while they own open ones. Each new submission of an open
    lead is mailed to its owner, with the prospect's details: someone outside
    sales must not get them, and the lead must not be left with nobody working
    it. Converted and lost leads are history and don't hold anyone back."""
    if user.role not in OWNER_ROLES or role in OWNER_ROLES:
        return
    owned = Lead.objects.filter(owner=user, status__in=Lead.OPEN_STATUSES).count()
    if owned:
        message = (
            f"This user owns {owned} open lead{'s' if owned > 1 else ''}: give "
            f"{'them' if owned > 1 else 'it'} to someone else first (in the admin's Leads, filter by "
            'owner, then the action "Assign an owner").'
        )
        raise ValidationError({"role": ValidationError(message, code=OWNS_LEADS)})


# --- capture ------------------------------------------------------------------


@transaction.atomic
def lead_capture(
    *,
    full_name: str,
    email: str,
    phone: str = "",
    source: str = Lead.Source.WEBSITE,
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    message: str = "",
    bootcamp: Bootcamp | None = None,
    actor: User | None = None,
    owner: User | None = None,
) -> tuple[Lead, bool]:
    """Record a submission (the public form, or a sales user entering a lead).

    Returns (lead, created). When an open lead with this email exists, the
    submission is appended to its timeline (SUBMISSION) instead of creating a
    duplicate — also when two submissions race: the new row is inserted inside
    a savepoint, and the partial unique constraint's IntegrityError sends the
    loser to the winner's row (locked with SELECT ... FOR UPDATE). Blank phone
    and bootcamp on the existing lead are filled in from the submission.

    Emails (after commit): a confirmation to the prospect, a notification to
    the owner, or to every active SALES user when the lead has none.
    """
    _refuse_owner(owner)
    asked_for = bootcamp
    candidate = Lead(
        full_name=(full_name or "").strip(),
        email=normalize_email(email),
        phone=(phone or "").strip(),
        source=source or Lead.Source.WEBSITE,
        utm_source=(utm_source or "").strip(),
        utm_medium=(utm_medium or "").strip(),
        utm_campaign=(utm_campaign or "").strip(),
        message=(message or "").strip(),
        bootcamp=None,  # once held, below
        owner=owner,
        status=Status.NEW,
    )
    _clean(candidate)
    submission = {
        "full_name": candidate.full_name,
        "phone": candidate.phone,
        "source": candidate.source,
        "utm_source": candidate.utm_source,
        "utm_medium": candidate.utm_medium,
        "utm_campaign": candidate.utm_campaign,
        "message": candidate.message,
        "bootcamp": _json_value(asked_for),
    }

    for _attempt in range(_CAPTURE_ATTEMPTS):
        existing = (
            Lead.objects.select_for_update()
            .filter(email=candidate.email, status__in=Lead.OPEN_STATUSES)
            .first()
        )
        # Then what the lead refers to, in the order every write of a lead locks:
        # the lead, its bootcamp, its owner. A bootcamp deleted meanwhile isn't a
        # reason to lose the prospect: the lead is kept without it, and the
        # timeline says which one they asked for.
        bootcamp = candidate.bootcamp = bootcamp_hold(asked_for)
        owner = candidate.owner = _check_owner(owner)
        if existing is None:
            try:
                with transaction.atomic():
                    candidate.save()
            except IntegrityError:
                # Another submission of this email committed between our look
                # and our insert: append to its lead on the next pass.
                candidate.pk = None
                candidate._state.adding = True
                continue
            _activity(
                candidate,
                Kind.CREATED,
                actor=actor,
                body=candidate.message,
                data={**submission, "owner": _user_ref(owner)},
            )
            _notify_capture(candidate, created=True, submission=submission, actor=actor)
            count_after_commit(LEADS, "captured")
            return candidate, True

        filled = []
        if not existing.phone and candidate.phone:
            existing.phone = candidate.phone
            filled.append("phone")
        if existing.bootcamp_id is None and bootcamp is not None:
            existing.bootcamp = bootcamp
            filled.append("bootcamp")
        existing.save(update_fields=[*filled, "updated_at"])
        _activity(
            existing,
            Kind.SUBMISSION,
            actor=actor,
            body=candidate.message,
            # The owner chosen with it (staff's entries), which the lead keeps as it is.
            data={**submission, "filled": filled, "owner": _user_ref(owner)},
        )
        _notify_capture(existing, created=False, submission=submission, actor=actor)
        count_after_commit(LEADS, "deduplicated")
        return existing, False

    # Only reachable if the open lead keeps appearing and vanishing under us.
    raise Conflict("This submission collided with concurrent changes; please retry.", code="retry")


# --- pipeline -----------------------------------------------------------------


def _lock(lead: Lead) -> Lead:
    """The lead, held, as it is once held: its owner and bootcamp read after the
    lock. Locked in the same query as the join, a lead changed by the transaction
    it waited for came back with its new owner_id but the owner row joined
    before (none): the new owner was dropped unrecorded, or the timeline named
    the wrong one."""
    Lead.objects.select_for_update().only("pk").get(pk=lead.pk)
    return Lead.objects.select_related("owner", "bootcamp").get(pk=lead.pk)


#: One timeline entry to write once the lead is saved: (kind, body, data).
Entry = tuple[str, str, dict]


def lead_lock(*, lead: Lead) -> Lead:
    """The lead as stored now, held until the transaction ends (_lock): for a
    check of what a page showed against what is stored (the sales pages' "changed
    while this page was open"), made where no other save can come in between."""
    return _lock(lead)


def _change_status(lead: Lead, *, status: str, lost_reason: str | None) -> Entry | None:
    """Move the lead along TRANSITIONS (in memory). A LOST lead needs a reason,
    which may also be changed on its own; reopening clears it."""
    old_status, old_reason = lead.status, lead.lost_reason
    new_status = status
    reason = lost_reason.strip() if isinstance(lost_reason, str) else lost_reason
    status_changed = new_status != lead.status
    if status_changed:
        if new_status not in Status.values:
            raise _invalid("status", f"“{new_status}” is not a lead status.", "invalid_choice")
        if new_status == Status.CONVERTED:
            raise _invalid(
                "status",
                "A lead becomes converted only by converting it into an enrollment.",
                "invalid_transition",
            )
        if lead.status == Status.CONVERTED:
            raise _invalid(
                "status",
                "This lead is converted, and conversion is final: its status can't change.",
                "invalid_transition",
            )
        if new_status not in TRANSITIONS[lead.status]:
            raise _invalid(
                "status",
                f"A {lead.get_status_display().lower()} lead can't be moved to "
                f"{Status(new_status).label.lower()}.",
                "invalid_transition",
            )
    if new_status == Status.LOST:
        if status_changed and not reason:
            raise _invalid("lost_reason", "Say why the lead was lost.", "reason_required")
        if reason is not None and not reason:
            raise _invalid("lost_reason", "A lost lead needs a reason.", "reason_required")
        if reason:
            lead.lost_reason = reason
    elif reason:
        raise _invalid(
            "lost_reason", "A reason is only given when marking a lead as lost.", "reason_without_lost"
        )
    else:
        lead.lost_reason = ""
    lead.status = new_status
    if not status_changed and not (new_status == Status.LOST and lead.lost_reason != old_reason):
        return None
    body = f"{old_status} → {new_status}" if status_changed else "Lost reason changed"
    if new_status == Status.LOST:
        body += f": {lead.lost_reason}"
    return Kind.STATUS_CHANGE, body, {"from": old_status, "to": new_status, "lost_reason": lead.lost_reason}


def _change_owner(lead: Lead, *, owner: User | None) -> Entry | None:
    if owner is not None and owner.pk == lead.owner_id:
        return None  # kept as it is, whoever they are now (a rep since deactivated)
    owner = _check_owner(owner)
    old = lead.owner
    lead.owner = owner
    if (old.pk if old else None) == (owner.pk if owner else None):
        return None
    body = f"Owner: {_display(old and old.full_name)} → {_display(owner and owner.full_name)}"
    return Kind.OWNER_CHANGE, body, {"from": _user_ref(old), "to": _user_ref(owner)}


#: Why a converted lead takes no follow-up (lead_convert clears it).
CONVERTED_KEEPS_ITS_BOOTCAMP = (
    "This lead is converted: the bootcamp it asked about is part of its record now, beside the one "
    "it was enrolled in."
)
CONVERTED_NEEDS_NO_FOLLOW_UP = "This lead is converted: it is a student now, and needs no follow-up."


def lead_check_follow_up(*, lead: Lead, when: datetime | None) -> None:
    """The rules a new follow-up time meets (a 400 on next_follow_up_at otherwise):
    none on a converted lead, from earlier today to two years ahead. None (no
    follow-up) always does."""
    if when is None:
        return
    if lead.status == Status.CONVERTED:
        raise _invalid("next_follow_up_at", CONVERTED_NEEDS_NO_FOLLOW_UP, "lead_converted")
    now = timezone.now()
    if when < now - FOLLOW_UP_PAST:
        raise _invalid("next_follow_up_at", "A follow-up can't be set in the past.", "follow_up_past")
    if when > now + FOLLOW_UP_AHEAD:
        message = "A follow-up can be planned at most two years ahead."
        raise _invalid("next_follow_up_at", message, "follow_up_too_far")


def _change_follow_up(lead: Lead, *, when: datetime | None) -> Entry | None:
    old = lead.next_follow_up_at
    if when == old:
        return None
    lead_check_follow_up(lead=lead, when=when)
    lead.next_follow_up_at = when
    body = follow_up_body(old, when)
    return Kind.FOLLOW_UP_CHANGE, body, {"from": _json_value(old), "to": _json_value(when)}


def _change_contact(lead: Lead, *, fields: dict) -> Entry | None:
    """Any of CONTACT_FIELDS; one entry lists every field that really changed."""
    old = {field: getattr(lead, field) for field in fields}
    for field, value in fields.items():
        if field == "bootcamp" and lead.status == Status.CONVERTED and value != lead.bootcamp:
            # What it asked about is history beside where it went (converted_enrollment).
            raise _invalid("bootcamp", CONVERTED_KEEPS_ITS_BOOTCAMP, "lead_converted")
        if field == "bootcamp" and value is not None and (value := bootcamp_hold(value)) is None:
            raise _invalid("bootcamp", "This bootcamp no longer exists.", "does_not_exist")
        if field == "email":
            value = normalize_email(value)
        elif isinstance(value, str):
            value = value.strip()
        setattr(lead, field, value)
    changed = [field for field in fields if getattr(lead, field) != old[field]]
    if not changed:
        return None
    body = "; ".join(
        f"{Lead._meta.get_field(field).verbose_name.capitalize()}: "
        f"{_display(old[field])} → {_display(getattr(lead, field))}"
        for field in changed
    )
    changes = {
        field: {"from": _json_value(old[field]), "to": _json_value(getattr(lead, field))} for field in changed
    }
    return Kind.CONTACT_CHANGE, body, {"changes": changes}


def _unassign_if_out_of_sales(lead: Lead) -> Entry | None:
    """A lead reopened goes back to nobody when its owner has left sales since (a
    role change checks only the open leads someone owns: on_user_role_changing),
    rather than be worked by a mentor. A deactivated rep keeps it, as their open
    leads (the admin is told who holds what)."""
    owner = _lock_owner(lead.owner_id) if lead.owner_id is not None else None
    if owner is None or owner.role in OWNER_ROLES:
        return None
    lead.owner = None
    body = f"Owner: {_display(owner.full_name)} → {_display(None)} (no longer in sales)"
    return Kind.OWNER_CHANGE, body, {"from": _user_ref(owner), "to": None}


def _save_changes(lead: Lead, actor: User | None, changes) -> Lead:
    """Lock the lead, apply `changes` (functions of the lead, run in order, each
    returning its timeline entry or None), save once, then write the entries.

    Reopening a lead, or giving it another email, can meet the one-open-lead-
    per-email constraint: an email the caller changed is a 400 on `email`, an
    email another lead took meanwhile a 409.
    """
    lead = _lock(lead)
    old_email = lead.email
    before = field_values(lead)
    entries = [change(lead) for change in changes]
    if before["status"] not in Lead.OPEN_STATUSES and lead.is_open and lead.owner_id == before["owner_id"]:
        entries.append(_unassign_if_out_of_sales(lead))
    # An owner kept is not checked again (_check_owner checks a new one): the leads
    # of someone who left sales, closed ones, stay editable.
    _clean(lead, exclude=None if lead.owner_id != before["owner_id"] else ["owner"])
    try:
        with transaction.atomic():
            save_changes(lead, before)
    except IntegrityError as exc:
        other = (
            Lead.objects.filter(email=lead.email, status__in=Lead.OPEN_STATUSES).exclude(pk=lead.pk).first()
        )
        if other is None:
            raise
        if lead.email != old_email:
            raise _invalid(
                "email", f"Another open lead (#{other.pk}) already has this email.", "open_lead_exists"
            ) from exc
        raise Conflict(
            f"Another open lead (#{other.pk}) now holds this email; work on that one instead.",
            code="open_lead_exists",
        ) from exc
    for kind, body, data in filter(None, entries):
        _activity(lead, kind, actor=actor, body=body, data=data)
    return lead


@transaction.atomic
def lead_set_status(*, lead: Lead, actor: User | None, status: str, lost_reason: str | None = None) -> Lead:
    """Move a lead along the pipeline (TRANSITIONS): NEW -> CONTACTED ->
    QUALIFIED (skipping ahead is fine), any open status -> LOST with a
    lost_reason, LOST -> NEW or CONTACTED (reopening clears the reason; 409 when
    another open lead now holds the email). CONVERTED only through lead_convert,
    and final. Else 400 on status. One STATUS_CHANGE entry (from/to)."""
    return _save_changes(
        lead, actor, [lambda lead: _change_status(lead, status=status, lost_reason=lost_reason)]
    )


@transaction.atomic
def lead_assign(*, lead: Lead, actor: User | None, owner: User | None) -> Lead:
    """Give the lead to an active SALES or ADMIN user (None: nobody). OWNER_CHANGE entry."""
    return _save_changes(lead, actor, [lambda lead: _change_owner(lead, owner=owner)])


@transaction.atomic
def lead_set_follow_up(*, lead: Lead, actor: User | None, when: datetime | None) -> Lead:
    """When to follow the lead up next (None: not planned). FOLLOW_UP_CHANGE entry."""
    return _save_changes(lead, actor, [lambda lead: _change_follow_up(lead, when=when)])


@transaction.atomic
def lead_update(*, lead: Lead, actor: User | None, data: dict) -> Lead:
    """Change any of UPDATABLE_FIELDS at once (the API's PATCH, the admin's form).

    `data` holds only the keys to change (owner and bootcamp as instances or
    None). Each kind of change is checked and recorded by its own function, as
    when made alone (lead_set_status, lead_assign, lead_set_follow_up, or the
    contact fields), and the lead is saved once: the request is taken whole or
    not at all.
    """
    unknown = sorted(set(data) - UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {
                field: ValidationError("This field cannot be changed.", code="unknown_field")
                for field in unknown
            }
        )
    changes = []
    if "status" in data or "lost_reason" in data:
        changes.append(
            lambda lead: _change_status(
                lead, status=data.get("status", lead.status), lost_reason=data.get("lost_reason")
            )
        )
    if "owner" in data:
        changes.append(lambda lead: _change_owner(lead, owner=data["owner"]))
    if "next_follow_up_at" in data:
        changes.append(lambda lead: _change_follow_up(lead, when=data["next_follow_up_at"]))
    contact = {field: data[field] for field in CONTACT_FIELDS if field in data}
    if contact:
        changes.append(lambda lead: _change_contact(lead, fields=contact))
    return _save_changes(lead, actor, changes)


@transaction.atomic
def lead_add_note(*, lead: Lead, actor: User | None, body: str) -> LeadActivity:
    """A note by a sales user on the lead's timeline."""
    body = (body or "").strip()
    if not body:
        raise _invalid("body", "Write something in the note.", "blank")
    max_length = LeadActivity._meta.get_field("body").max_length
    if len(body) > max_length:
        raise _invalid("body", f"A note has at most {max_length} characters.", "max_length")
    note = _activity(lead, Kind.NOTE, actor=actor, body=body)
    # The lead's "last touched" time moves with its timeline.
    Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now())
    return note


# --- conversion ---------------------------------------------------------------


@transaction.atomic
def lead_convert(*, lead: Lead, actor: User | None, bootcamp: Bootcamp, notify: bool = True) -> Lead:
    """Turn a lead into a student enrolled in `bootcamp`, in one transaction.

    Locks the lead; a CONVERTED lead -> 409 (already_converted), a LOST one ->
    409 (reopen it first). The STUDENT user is reused when one has the lead's
    email (another role -> 400), else created without a password. Enrolling
    goes through enrollments.services.enrollment_create, so seat limits and the
    waitlist hold (a full bootcamp -> WAITLISTED); if it fails, everything
    rolls back and no user is left behind.

    A student whose email nobody has proven (a new one, or an account anyone
    could have registered with the lead's address) is emailed a link to set
    their password (never a password), after commit. Until the address's owner
    uses it the account logs in nowhere (accounts.backends), so whoever holds
    its password sees nothing of this lead or enrollment; using it ends every
    earlier password and session of the account (password_reset_confirm). A
    verified student just gets the enrollment's own email.
    `notify=False` sends no email at all (demo data).
    """
    lead = _lock(lead)
    if lead.status == Status.CONVERTED:
        raise Conflict("This lead has already been converted.", code="already_converted")
    if lead.status == Status.LOST:
        raise Conflict("This lead is lost; reopen it before converting it.", code="lead_lost")

    student = User.objects.filter(email=lead.email).first()
    created = student is None
    if student is None:
        phone = lead.phone
        try:
            User._meta.get_field("phone").run_validators(phone)
        except ValidationError:
            phone = ""
        student = user_create(
            email=lead.email, password=None, full_name=lead.full_name, phone=phone, role=User.Role.STUDENT
        )
    elif student.role != User.Role.STUDENT:
        raise ValidationError(
            # The role isn't named: SALES, who convert, may not see who is staff.
            f"{lead.email} belongs to an account that is not a student's, so it cannot be "
            "enrolled. Correct the lead's email, then convert it.",
            code="not_a_student",
        )
    elif not student.is_active:
        raise ValidationError(
            f"The student account of {lead.email} is deactivated; reactivate it first.",
            code="inactive_student",
        )

    # A student who gets the invitation below (enrolled or waitlisted, and how to sign
    # in) isn't sent the enrollment's own email as well: one action, one email.
    enrollment = enrollment_create(
        student=student, bootcamp=bootcamp, actor=actor, notify=notify, notify_student=student.email_verified
    )

    old_status = lead.status
    lead.status = Status.CONVERTED
    lead.converted_student = student
    lead.converted_enrollment = enrollment
    lead.converted_at = timezone.now()
    lead.lost_reason = ""
    # A student now: nobody follows the lead up any more.
    follow_up = _change_follow_up(lead, when=None)
    count_after_commit(LEADS, "converted")
    if lead.bootcamp_id is None:
        lead.bootcamp = enrollment.bootcamp
    lead.save()
    _activity(
        lead,
        Kind.CONVERSION,
        actor=actor,
        body=f"Converted into {enrollment.bootcamp.title} ({enrollment.get_status_display().lower()}).",
        data={
            "from": old_status,
            "student": _user_ref(student),
            "student_created": created,
            "student_email_verified": student.email_verified,
            "enrollment": {"id": enrollment.pk, "status": enrollment.status},
            "bootcamp": _json_value(enrollment.bootcamp),
        },
    )
    if follow_up is not None:
        kind, body, data = follow_up
        _activity(lead, kind, actor=actor, body=body, data=data)
    if notify and not student.email_verified:
        enrollment_invite(enrollment=enrollment, existing_account=not created)
    return lead


@transaction.atomic
def lead_link_registered_user(*, user: User) -> None:
    """On accounts.signals.user_email_verified (leads.apps): when a registered
    account's email, now proven, has an open lead, the lead's timeline records
    it (USER_LINKED, with the user's id). Not at registration: anyone can
    register someone else's address, and the link would tell sales the lead
    has an account. The lead keeps its status and converted_student stays
    empty: registering is not enrolling, and sales still converts it to enroll."""
    if not user.email_verified:
        return
    lead = (
        Lead.objects.select_for_update()
        .filter(email=normalize_email(user.email), status__in=Lead.OPEN_STATUSES)
        .first()
    )
    if lead is None:
        return
    _activity(
        lead,
        Kind.USER_LINKED,
        actor=user,
        body=f"Registered as {user.email}.",
        data={"user": _user_ref(user)},
    )
