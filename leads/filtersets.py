"""The one lead filterset: the API's list and export and the sales pages' list
and export all filter through it, so they can't disagree about what a
filter means.

    ?search=ana&status=NEW&status=CONTACTED&source=WEBSITE&owner=me
    &bootcamp=3&created_after=2026-01-01&created_before=2026-01-31
    &follow_up_after=...&follow_up_before=...&ordering=-next_follow_up_at

Date bounds are days in the current time zone and both ends are inclusive.
"""

import django_filters
from django import forms
from django.db.models import Case, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Upper

from accounts.models import User, phone_search_forms, search_match
from bootcamps.models import Bootcamp
from cohortly.dates import day_end, day_start
from cohortly.filters import (
    TOO_MANY_TERMS,
    IdChoiceFilter,
    MultipleChoiceFilter,
    OrderingFilter,
    at_most_max_search_terms,
)
from cohortly.models import as_uuid
from leads.models import Lead

OWNER_ME = ("me", "mine")
OWNER_UNASSIGNED = "unassigned"


def owner_label(person: User) -> str:
    """A person as an owner select names them; one who can't be given leads any
    more (deactivated, or no longer in sales) says so."""
    name = person.full_name or person.email
    if not person.is_active:
        return f"{name} (deactivated)"
    if person.role not in (User.Role.SALES, User.Role.ADMIN):
        return f"{name} (no longer in sales)"
    return name


def owner_choices(selected: str = "") -> list[tuple[str, str]]:
    """Me, unassigned, then every active sales or admin user (evaluated only
    when a form renders the choices); and `selected`, a user's id the list is
    filtered by, whoever they are now: a deactivated rep's leads are found by
    this filter to hand them on, and the select must show it, or Apply drops it."""
    people = list(
        User.objects.filter(role__in=[User.Role.SALES, User.Role.ADMIN], is_active=True).order_by(
            "full_name", "email"
        )
    )
    if as_uuid(selected) is not None and all(str(person.pk) != selected for person in people):
        # Only someone leads are owned by: any other id names nobody here.
        people += list(User.objects.filter(pk=selected, owned_leads__isnull=False).distinct())
    return [
        ("me", "Me"),
        (OWNER_UNASSIGNED, "Unassigned"),
        *[(str(person.pk), owner_label(person)) for person in people],
    ]


class OwnerField(forms.ChoiceField):
    """ "me" / "mine", "unassigned", or any user's id. The choices are for
    rendering a select; validation accepts any well-formed id without a query."""

    def valid_value(self, value):
        return value in (*OWNER_ME, OWNER_UNASSIGNED) or as_uuid(value) is not None


class OwnerFilter(django_filters.Filter):
    field_class = OwnerField


#: A range's end before its start (LeadFilterForm); declared on the end's
#: filter, so the schema lists the code among the list's 400s.
RANGE_REVERSED = {
    "range_reversed": "This is before the start of the range (%(start)s), so nothing could match."
}


class LeadFilterForm(forms.Form):
    """A date range whose end comes before its start matches nothing: said
    beside its end rather than answered with an empty list."""

    RANGES = (("created_after", "created_before"), ("follow_up_after", "follow_up_before"))

    def clean(self):
        cleaned = super().clean()
        for start, end in self.RANGES:
            first, last = cleaned.get(start), cleaned.get(end)
            if first and last and last < first:
                message = self.fields[end].error_messages["range_reversed"]
                error = forms.ValidationError(
                    message, code="range_reversed", params={"start": f"{first:%Y-%m-%d}"}
                )
                self.add_error(end, error)
        return cleaned


def _phone_match(digits: str, at_start: bool) -> Q:
    """search_text holds the phone without separators as its last word: a form
    that must start the number follows the space before it."""
    return Q(search_text__contains=f" {digits}" if at_start else digits)


class LeadFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        validators=[at_most_max_search_terms],
        # Declared so the schema lists the code among the search's 400s.
        error_messages={"too_many_terms": TOO_MANY_TERMS},
        label="Search",
        help_text="Name, email or phone contains this text; a phone number matches however it is spaced "
        "(with or without spaces, dashes, dots and brackets).",
    )
    status = MultipleChoiceFilter(choices=Lead.Status.choices)
    source = django_filters.ChoiceFilter(choices=Lead.Source.choices)
    owner = OwnerFilter(
        method="filter_owner",
        label="Owner",
        choices=owner_choices,
        help_text='"me" (or "mine"), "unassigned", or a user id.',
    )
    bootcamp = IdChoiceFilter(queryset=Bootcamp.objects.all())
    created_after = django_filters.DateFilter(
        method="filter_created_after", label="Created on or after", help_text="A date (YYYY-MM-DD)."
    )
    created_before = django_filters.DateFilter(
        method="filter_created_before",
        label="Created on or before",
        help_text="A date (YYYY-MM-DD), not before the range's start.",
        error_messages=RANGE_REVERSED,
    )
    follow_up_after = django_filters.DateFilter(
        method="filter_follow_up_after", label="Follow-up on or after", help_text="A date (YYYY-MM-DD)."
    )
    follow_up_before = django_filters.DateFilter(
        method="filter_follow_up_before",
        label="Follow-up on or before",
        help_text="A date (YYYY-MM-DD), not before the range's start.",
        error_messages=RANGE_REVERSED,
    )
    # Empty values sort last either way; the newest lead wins a tie; statuses
    # in the pipeline's order (New, Contacted, Qualified, Converted, Lost).
    ordering = OrderingFilter(
        tie_breaker="-id",
        nulls_last=("next_follow_up_at", "owner__full_name", "bootcamp__title"),
        expressions={
            "status": Case(
                *(When(status=status, then=rank) for rank, status in enumerate(Lead.Status.values)),
                output_field=IntegerField(),
            )
        },
        fields=(
            "created_at",
            "full_name",
            "status",
            "source",
            "next_follow_up_at",
            "owner__full_name",
            "bootcamp__title",
        ),
        field_labels={
            "created_at": "Created",
            "full_name": "Name",
            "status": "Status",
            "source": "Source",
            "next_follow_up_at": "Next follow-up",
            "owner__full_name": "Owner",
            "bootcamp__title": "Bootcamp",
        },
    )

    class Meta:
        model = Lead
        fields = []
        form = LeadFilterForm

    #: The fields each method filter reads, for the response cache
    #: (cohortly.caching): a lead list is stale when one of them changes.
    #: search_text is generated from the name, email and phone.
    method_fields = {
        "search": ("full_name", "email", "phone"),
        "owner": ("owner",),
        "created_after": ("created_at",),
        "created_before": ("created_at",),
        "follow_up_after": ("next_follow_up_at",),
        "follow_up_before": ("next_follow_up_at",),
    }

    # A method filter so PostgreSQL trigram similarity can replace it later
    # without changing the parameter.
    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset

        # Every word, in the name, the email or the phone, any case ("Grace Hopper"
        # finds Grace Brewster Hopper): a LIKE each on the generated search_text,
        # upper-cased by the database's UPPER() as the column is (SQLite's, for
        # one, leaves non-ASCII letters as they are: "Zoë" is stored as "ZOë").
        def word_match(word: str) -> Q:
            found = Q(search_text__contains=Upper(Value(word, output_field=TextField())))
            # A phone number, however it is spaced and whether written with its
            # country code or a trunk 0: search_text also holds each phone
            # without separators (Lead.search_text).
            for digits, at_start in phone_search_forms(word):
                if digits != word:
                    found |= _phone_match(digits, at_start)
            return found

        def number_match(number: str) -> Q:
            found = Q()
            for digits, at_start in phone_search_forms(number):
                found |= _phone_match(digits, at_start)
            return found

        # Also the whole term as one number ("+44 (759) 893188" for +44759893188),
        # and words beside a number spread over several ("Waller 020 7946 0000").
        return queryset.filter(search_match(value, word=word_match, number=number_match))

    def filter_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value in OWNER_ME:
            user = getattr(self.request, "user", None)
            if user is None or not user.is_authenticated:
                return queryset.none()
            return queryset.filter(owner=user)
        if value == OWNER_UNASSIGNED:
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=value)

    def filter_created_after(self, queryset, name, value):
        return queryset.filter(created_at__gte=day_start(value))

    def filter_created_before(self, queryset, name, value):
        end = day_end(value)
        return queryset if end is None else queryset.filter(created_at__lt=end)  # every lead has one

    def filter_follow_up_after(self, queryset, name, value):
        return queryset.filter(next_follow_up_at__gte=day_start(value))

    def filter_follow_up_before(self, queryset, name, value):
        end = day_end(value)
        # With no end (the last day there is) the filter still asks for a follow-up.
        if end is None:
            return queryset.filter(next_follow_up_at__isnull=False)
        return queryset.filter(next_follow_up_at__lt=end)
