"""Demo leads: a few hundred across every source, status, owner and bootcamp,
spread over the last four months, with timelines, so the sales workspace and
its dashboard show something real.

Deterministic (random.Random(42)) and idempotent: nothing happens when leads
exist. Fast: leads and their timeline entries are bulk-inserted in the shapes
the services write; only conversions go through leads.services.lead_convert,
because they create students and enrollments under the seat rules (no email
is sent). The demo SALES user gets follow-ups due today and overdue.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment
from enrollments.services import bootcamp_seats_left
from leads import services
from leads.models import Lead, LeadActivity
from leads.selectors import lead_follow_ups_due, lead_status_counts

Status = Lead.Status
Source = Lead.Source
Kind = LeadActivity.Kind

TOTAL = 320
CONVERSIONS = 24
DAYS_BACK = 120

FIRST = [
    "Aisha", "Ben", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kemi",
    "Luca", "Maya", "Nils", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wim", "Xenia", "Yusuf", "Zara", "Amir", "Bianca", "Chen", "Dara",
]  # fmt: skip
LAST = [
    "Andersen", "Baptiste", "Costa", "Dijkstra", "Eriksen", "Fontaine", "Garcia", "Hoffmann",
    "Ivanova", "Jensen", "Kovacs", "Laurent", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn",
    "Rahman", "Santos", "Tanaka", "Ueda", "Varga", "Weber", "Yilmaz", "Zielinski",
]  # fmt: skip
DOMAINS = ["example.net", "mail.example", "inbox.example", "corp.example"]
UTM = {
    Source.ADS: [("google", "cpc"), ("linkedin", "paid"), ("bing", "cpc")],
    Source.SOCIAL: [("instagram", "social"), ("twitter", "social"), ("facebook", "social")],
    Source.WEBSITE: [("newsletter", "email"), ("", "")],
}
MESSAGES = [
    "Is there a part-time option?",
    "Do you offer payment plans?",
    "I'm switching careers from teaching. Is the bootcamp right for me?",
    "Can my employer pay the invoice?",
    "What does a typical day look like?",
    "",
    "",
]
NOTES = [
    "Called, no answer. Left a voicemail.",
    "Great call: motivated, wants to start next cohort.",
    "Sent the syllabus and the payment plan options.",
    "Asked about financing; forwarded to the finance team.",
    "Wants to talk to an alumnus first; intro sent.",
    "Employer will decide next week.",
]
LOST_REASONS = [
    "Chose another school",
    "Budget",
    "Timing: will reapply next year",
    "No response after three attempts",
    "Not a fit for the curriculum",
]
STATUS_WEIGHTS = [
    (Status.NEW, 30),
    (Status.CONTACTED, 26),
    (Status.QUALIFIED, 18),
    (Status.LOST, 18),
    ("CONVERT", 8),  # qualified first, then converted through the service
]
SOURCE_WEIGHTS = [
    (Source.WEBSITE, 34),
    (Source.ADS, 20),
    (Source.SOCIAL, 16),
    (Source.REFERRAL, 14),
    (Source.EVENT, 10),
    (Source.OTHER, 6),
]


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _phone(rng):
    return f"+{rng.choice([31, 33, 44, 49, 351])} {rng.randint(600, 799)} {rng.randint(100000, 999999)}"


def _ref(user):
    return {"id": str(user.pk), "name": user.full_name or user.email} if user else None


def seed(*, stdout, style, context):
    stdout.write(style.MIGRATE_HEADING("Demo leads:"))
    if Lead.objects.exists():
        stdout.write(f"  {Lead.objects.count()} leads already there; nothing added")
        return
    sales = list(context.get("sales") or User.objects.filter(role=User.Role.SALES, is_active=True))
    demo_sales = (context.get("users") or {}).get(User.Role.SALES) or (sales[0] if sales else None)
    today = timezone.localdate()
    bootcamps = [b for b in context.get("bootcamps") or [] if b.status == Bootcamp.Status.PUBLISHED]
    convertible = [b for b in bootcamps if b.end_date >= today]
    with transaction.atomic():
        leads, to_convert = _seed(
            rng=random.Random(42), sales=sales, demo_sales=demo_sales, bootcamps=bootcamps
        )
        converted = _convert(rng=random.Random(43), leads=to_convert, bootcamps=convertible, sales=sales)
    counts = lead_status_counts(Lead.objects.all())
    due = lead_follow_ups_due(user=demo_sales).count() if demo_sales is not None else 0
    stdout.write(
        f"  {len(leads)} leads ({', '.join(f'{n} {s.lower()}' for s, n in counts.items())}); "
        f"{converted} converted into enrollments; "
        f"{due} follow-ups due for {demo_sales.email if demo_sales else 'nobody'}"
    )


def _seed(*, rng, sales, demo_sales, bootcamps):
    now = timezone.now()
    leads, plans = [], []
    for i in range(TOTAL):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        source = _pick(rng, SOURCE_WEIGHTS)
        plan = _pick(rng, STATUS_WEIGHTS)
        status = Status.QUALIFIED if plan == "CONVERT" else plan
        created = now - timedelta(days=rng.uniform(0, DAYS_BACK), minutes=rng.randint(0, 600))
        utm_source, utm_medium = rng.choice(UTM.get(source, [("", "")]))
        owner = None
        if status != Status.NEW or rng.random() < 0.4:
            owner = rng.choice(sales) if sales else None
        lead = Lead(
            full_name=f"{first} {last}",
            email=f"{first}.{last}.{i + 1}@{rng.choice(DOMAINS)}".lower(),
            phone=_phone(rng) if rng.random() < 0.8 else "",
            source=source,
            utm_source=utm_source,
            utm_medium=utm_medium,
            utm_campaign=f"cohort-{created:%Y-%m}" if utm_source else "",
            message=rng.choice(MESSAGES),
            bootcamp=rng.choice(bootcamps) if bootcamps and rng.random() < 0.8 else None,
            status=status,
            lost_reason=rng.choice(LOST_REASONS) if status == Status.LOST else "",
            owner=owner,
        )
        if status in Lead.OPEN_STATUSES and owner is not None and rng.random() < 0.7:
            lead.next_follow_up_at = now + timedelta(hours=rng.randint(-96, 24 * 21))
        leads.append(lead)
        plans.append((plan, created))

    # The demo sales user's morning: a few overdue and a few due later today.
    mine = [lead for lead in leads if lead.owner == demo_sales and lead.status in Lead.OPEN_STATUSES]
    end_of_day = timezone.localtime(now).replace(hour=23, minute=0, second=0, microsecond=0)
    for n, lead in enumerate(mine[:10]):
        lead.next_follow_up_at = (
            now - timedelta(days=1 + n % 5, hours=n)
            if n % 2
            else min(end_of_day, now + timedelta(hours=1 + n))
        )

    Lead.objects.bulk_create(leads, batch_size=500)
    # updated_at is auto_now: set the history afterwards.
    for lead, (_plan, created) in zip(leads, plans, strict=True):
        lead.created_at = lead.updated_at = created
    Lead.objects.bulk_update(leads, ["created_at", "updated_at"], batch_size=500)

    activities = []
    for lead, (_plan, created) in zip(leads, plans, strict=True):
        activities.extend(_timeline(rng, lead, created, now))
    LeadActivity.objects.bulk_create(activities, batch_size=1000)
    _backdate(activities)
    to_convert = [lead for lead, (plan, _created) in zip(leads, plans, strict=True) if plan == "CONVERT"]
    return leads, to_convert


def _backdate(activities):
    for activity in activities:
        activity.created_at = activity._when
    LeadActivity.objects.bulk_update(activities, ["created_at"], batch_size=1000)


def _timeline(rng, lead, created, now):
    """The entries the services would have written on the way to this status."""
    when = created
    entries = []

    def add(kind, *, actor=None, body="", data=None, after_hours=(1, 72)):
        nonlocal when
        when = min(now, when + timedelta(hours=rng.uniform(*after_hours)))
        entry = LeadActivity(lead=lead, kind=kind, actor=actor, body=body, data=data or {})
        entry._when = when
        entries.append(entry)

    submission = {
        "full_name": lead.full_name,
        "phone": lead.phone,
        "source": lead.source,
        "utm_source": lead.utm_source,
        "utm_medium": lead.utm_medium,
        "utm_campaign": lead.utm_campaign,
        "message": lead.message,
        "bootcamp": {"id": lead.bootcamp.pk, "title": lead.bootcamp.title} if lead.bootcamp else None,
    }
    add(Kind.CREATED, body=lead.message, data={**submission, "owner": None}, after_hours=(0, 0))
    if rng.random() < 0.08:
        add(Kind.SUBMISSION, body="Just checking you got my request.", data={**submission, "filled": []})
    owner = lead.owner
    if owner is not None:
        add(
            Kind.OWNER_CHANGE,
            actor=owner,
            body=f"Owner: — → {owner.full_name}",
            data={"from": None, "to": _ref(owner)},
        )
    path = {
        Status.NEW: [],
        Status.CONTACTED: [Status.CONTACTED],
        Status.QUALIFIED: [Status.CONTACTED, Status.QUALIFIED] if rng.random() < 0.7 else [Status.QUALIFIED],
        Status.LOST: [Status.CONTACTED, Status.LOST] if rng.random() < 0.6 else [Status.LOST],
    }[lead.status]
    previous = Status.NEW
    for status in path:
        if rng.random() < 0.6:
            add(Kind.NOTE, actor=owner, body=rng.choice(NOTES))
        body = f"{previous} → {status}" + (f": {lead.lost_reason}" if status == Status.LOST else "")
        reason = lead.lost_reason if status == Status.LOST else ""
        add(
            Kind.STATUS_CHANGE,
            actor=owner,
            body=body,
            data={"from": previous, "to": status, "lost_reason": reason},
        )
        previous = status
    if lead.next_follow_up_at and owner is not None:
        add(
            Kind.FOLLOW_UP_CHANGE,
            actor=owner,
            body=services.follow_up_body(None, lead.next_follow_up_at),
            data={"from": None, "to": lead.next_follow_up_at.isoformat()},
        )
    return entries


def _convert(*, rng, leads, bootcamps, sales):
    """Convert through the service (student, enrollment, seat rules), dating
    the conversion (and its enrollment) a little after the lead's last timeline
    entry. Up to CONVERSIONS of `leads`, each into the bootcamp it asked about:
    onto the waitlist when that one is full, as sales would; a lead that asked
    about none gets one with room. A bootcamp down to its last seat takes no
    more conversions (those leads stay QUALIFIED, waiting on a seat), so the
    demo keeps one full bootcamp (with its waitlist) and the others open."""
    if not bootcamps:
        return 0
    now = timezone.now()
    # Each lead's conversion date first; then converted in that order, so seats
    # and waitlist places go as they would have, and the enrollment is dated with it.
    dated = []
    for lead in leads:
        # The timeline as _seed dated it: the conversion also clears the follow-up,
        # an entry written now that would date every conversion to this moment.
        last = lead.activities.order_by("-created_at").first()
        when = min(now, (last.created_at if last else lead.created_at) + timedelta(days=rng.uniform(1, 10)))
        dated.append((when, lead.pk, lead))
    converted = 0
    for when, _pk, lead in sorted(dated, key=lambda item: item[:2]):
        if converted >= CONVERSIONS:
            break
        seats = {b.pk: bootcamp_seats_left(b) for b in bootcamps}
        roomy = [b for b in bootcamps if seats[b.pk] >= 2]
        if lead.bootcamp is None:
            if not roomy:
                continue
            bootcamp = rng.choice(roomy)
        elif lead.bootcamp in roomy or seats.get(lead.bootcamp.pk) == 0:
            bootcamp = lead.bootcamp
        else:
            continue  # its last seat, or a bootcamp no longer open: not into another one
        actor = lead.owner or (rng.choice(sales) if sales else None)
        converting = timezone.now()
        lead = services.lead_convert(lead=lead, actor=actor, bootcamp=bootcamp, notify=False)
        Lead.objects.filter(pk=lead.pk).update(converted_at=when, updated_at=when)
        lead.activities.filter(created_at__gte=converting).update(created_at=when)
        Enrollment.objects.filter(pk=lead.converted_enrollment_id).update(enrolled_at=when, created_at=when)
        converted += 1
    return converted
