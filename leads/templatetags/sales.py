"""Template helpers for the sales workspace: relative times, badges, roles."""

from datetime import datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import BRACKETED_TRUNK, PHONE_SEPARATORS
from accounts.permissions import SALES_TEAM, has_role
from leads import submit_once

register = template.Library()

EXACT_FORMAT = "D j M Y, H:i T"

#: The session key of the lead list's filters, order and page as last shown
#: (leads.views.LeadListView): the "Leads" links of the pages opened from it
#: go back to them, after any number of actions on a lead.
LIST_QUERY = "sales_list_query"


@register.filter
def tel_href(phone: str) -> str:
    """A phone number as a tel: link dials it: without separators, and written
    with a country code, without the bracketed trunk 0 ("+44 (0)20 7946 0958"
    dials +442079460958, not +4402079460958, a number that doesn't exist)."""
    if phone.strip().startswith("+"):
        phone = BRACKETED_TRUNK.sub("", phone, count=1)
    return "tel:" + phone.translate(str.maketrans("", "", PHONE_SEPARATORS))


@register.simple_tag(takes_context=True)
def lead_list_url(context) -> str:
    """The lead list as the user last saw it."""
    query = context["request"].session.get(LIST_QUERY, "")
    return reverse("sales:lead_list") + (f"?{query}" if query else "")


def relative_phrase(value: datetime, now: datetime) -> str:
    """'3 h ago', 'in 2 days', 'just now' — or the date when it is far away."""
    seconds = (value - now).total_seconds()
    future = seconds > 0
    seconds = abs(seconds)

    def say(amount: int, unit: str) -> str:
        text = f"{amount} {unit}"
        return f"in {text}" if future else f"{text} ago"

    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return say(int(seconds // 60), "min")
    if seconds < 86400:
        return say(int(seconds // 3600), "h")
    # A day or more away: counted in calendar days where the reader is, so that
    # tomorrow afternoon is "tomorrow" even 37 hours ahead.
    local = timezone.localtime(value)
    days = abs((local.date() - timezone.localtime(now).date()).days)
    if days == 0:  # the same day, 24 hours on or more: the 25-hour day summer time ends on
        return say(int(seconds // 3600), "h")
    if days == 1:
        return "tomorrow" if future else "yesterday"
    if days < 14:
        return say(days, "days")
    if local.year == timezone.localtime(now).year:
        return date_filter(local, "j M")
    return date_filter(local, "j M Y")


@register.simple_tag
def reltime(value, now=None):
    """<time> with a relative phrase, and the exact local time on hover."""
    if not value:
        return ""
    now = now or timezone.now()
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        date_filter(local, EXACT_FORMAT),
        relative_phrase(value, now),
    )


@register.filter
def exact_time(value):
    if not value:
        return ""
    return date_filter(timezone.localtime(value), EXACT_FORMAT)


@register.filter
def stored_time(value) -> str:
    """A time kept as ISO 8601 in a timeline entry's data, shown as exact_time
    (where the reader is); "—" for none."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return exact_time(moment)


@register.filter
def breakable_email(email) -> str:
    """An address that, when it must wrap, wraps before its @ rather than mid-word."""
    local, at, domain = str(email or "").rpartition("@")
    if not at:
        return email or ""
    return format_html("{}<wbr>@{}", local, domain)


@register.filter
def is_sales_team(user) -> bool:
    return has_role(user, SALES_TEAM)


@register.filter
def follow_up_state(lead, now=None) -> str:
    """'overdue', 'today' or '' for an open lead's next follow-up."""
    when = getattr(lead, "next_follow_up_at", None)
    if not when or not lead.is_open:
        return ""
    now = now or timezone.now()
    if when < now:
        return "overdue"
    if timezone.localtime(when).date() == timezone.localtime(now).date():
        return "today"
    return ""


@register.simple_tag
def status_badge(status, label=None):
    """A status badge: coloured, but the text always says the status."""
    if not status:
        return ""
    return format_html(
        '<span class="badge badge--{}">{}</span>', str(status).lower(), label or str(status).title()
    )


@register.filter
def described_widget(field):
    """The field's widget, pointing at its help text and errors (aria-describedby)."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    if field.errors:
        ids.append(f"{field.auto_id}_error")
    if not ids:
        return field.as_widget()
    return field.as_widget(attrs={"aria-describedby": " ".join(ids)})


@register.filter
def status_label(value) -> str:
    """'CONTACTED' -> 'Contacted' (the lead status's display name)."""
    from leads.models import Lead

    try:
        return Lead.Status(value).label
    except ValueError:
        return str(value or "")


@register.simple_tag
def submit_once_field():
    """The hidden token that makes a form act once however often it is sent
    (leads.submit_once); a new one each time the form is shown."""
    token = submit_once.new_token()
    return format_html('<input type="hidden" name="{}" value="{}">', submit_once.FIELD, token)


@register.simple_tag
def submission_facts(activity) -> list[tuple[str, str]]:
    """What a form submission onto an open lead said (a SUBMISSION entry's data), as
    (label, value) pairs to show: the name, phone, source, bootcamp and campaign it
    came with, the owner staff chose, and which of the lead's empty fields it filled."""
    from leads.models import Lead

    data = activity.data or {}
    sources = dict(Lead.Source.choices)
    bootcamp = data.get("bootcamp") or {}
    owner = data.get("owner") or {}
    utm = [data.get(key) for key in ("utm_source", "utm_medium", "utm_campaign")]
    campaign = " / ".join(str(part) for part in utm if part)
    facts = [
        ("Name", data.get("full_name") or ""),
        ("Phone", data.get("phone") or ""),
        ("Source", sources.get(data.get("source"), data.get("source") or "")),
        ("Bootcamp", bootcamp.get("title", "") if isinstance(bootcamp, dict) else ""),
        ("Campaign", campaign),
        ("Owner chosen", owner.get("name", "") if isinstance(owner, dict) else ""),
        ("Filled in", ", ".join(data.get("filled") or [])),
    ]
    return [(label, value) for label, value in facts if value]
