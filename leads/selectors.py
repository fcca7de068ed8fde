"""Lead reads, scoped to the user asking. Outside the scope a lead is simply
not found (404), in the API and the sales pages alike."""

from datetime import datetime, timedelta

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.permissions import SALES_TEAM, has_role
from bootcamps.models import Bootcamp
from cohortly.caching import Scoped
from leads.models import Lead, LeadActivity


def lead_scope(user: User | None) -> Scoped:
    """Every lead for SALES and ADMIN users; nothing for anyone else; and the key
    of that scope. The key names the user too: the list's filters can mean "mine"
    (`owner=me`), so the same URL shows two salespeople different rows. Joins the
    owner and bootcamp a list row shows; the conversion's student and enrollment
    (few leads have them) come in a query of their own only when a page has some:
    planning the search over four joins cost more than running it."""
    from enrollments.models import Enrollment

    tables = (Lead, User, Bootcamp, Enrollment)
    if not has_role(user, SALES_TEAM):
        return Scoped("none", tables, lambda: Lead.objects.none())
    return Scoped(
        f"sales:{user.pk}",
        tables,
        lambda: Lead.objects.select_related("owner", "bootcamp").prefetch_related(
            "converted_enrollment", "converted_student"
        ),
    )


def lead_list_for(user: User | None) -> QuerySet[Lead]:
    """lead_scope(user)'s rows."""
    return lead_scope(user).queryset


def lead_get_for(user: User | None, pk) -> Lead:
    """One lead in the user's scope, or Http404."""
    try:
        return lead_list_for(user).get(pk=int(pk))
    except (Lead.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404("No lead found.") from None


def lead_owner_choices(*, keeping: Lead | None = None) -> QuerySet[User]:
    """Who a lead may be given to: the active SALES and ADMIN users, by name; and,
    for `keeping`, its current owner whoever they are now (a rep since
    deactivated), so that a form shows who owns it and saving it as shown keeps
    them (leads.services keeps an owner as they are, and refuses giving a lead
    to anyone else who can't own one)."""
    people = User.objects.filter(role__in=SALES_TEAM, is_active=True)
    if keeping is not None and keeping.owner_id is not None:
        people = people | User.objects.filter(pk=keeping.owner_id)
    return people.order_by("full_name", "email")


def lead_activity_list(*, lead: Lead) -> QuerySet[LeadActivity]:
    """The lead's timeline, newest first."""
    return LeadActivity.objects.filter(lead=lead).select_related("actor").order_by("-created_at", "-id")


def lead_status_counts(queryset: QuerySet[Lead]) -> dict[str, int]:
    """{status: count} for every status (zeros included, in pipeline order), in
    one GROUP BY query over `queryset` (filters applied, ordering dropped)."""
    counts = dict.fromkeys(Lead.Status.values, 0)
    rows = queryset.order_by().values_list("status").annotate(n=Count("pk"))
    for status, n in rows:
        counts[status] = n
    return counts


def end_of_today(now: datetime | None = None) -> datetime:
    """The start of tomorrow in the current time zone (exclusive bound)."""
    local = timezone.localtime(now or timezone.now())
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def lead_follow_ups_due(*, user: User, now: datetime | None = None) -> QuerySet[Lead]:
    """Open leads owned by `user` whose follow-up is today or overdue, oldest first."""
    return (
        lead_list_for(user)
        .filter(owner=user, status__in=Lead.OPEN_STATUSES, next_follow_up_at__lt=end_of_today(now))
        .order_by("next_follow_up_at", "id")
    )


def on_user_still_holds(sender, *, user: User, **kwargs) -> str | None:
    """accounts.signals.user_still_holds: the open leads a deactivated user still
    owns. New submissions of them go to the whole sales team meanwhile
    (leads.services._sales_recipients), but nobody is working them."""
    owned = Lead.objects.filter(owner=user, status__in=Lead.OPEN_STATUSES).count()
    if not owned:
        return None
    return (
        f"{user.full_name or user.email} still owns {owned} open lead{'s' if owned > 1 else ''}: give "
        f"{'them' if owned > 1 else 'it'} to someone else (Leads, filter by owner, then the action "
        '"Assign an owner").'
    )
