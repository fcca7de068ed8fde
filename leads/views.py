"""The sales workspace: server-rendered pages over the same selectors,
filterset and services as the leads API, so the two can't disagree.

Views only parse (Django forms), call a selector or a service, and render.
Every action is Post/Redirect/Get with a django.contrib.messages confirmation;
a service's refusal goes back onto the form (leads.forms.apply_service_errors):
a ValidationError beside its field, a domain error (conflict, not allowed,
busy) as a form error, never a 500.
"""

import abc
import functools
import zoneinfo
from datetime import UTC, datetime
from urllib.parse import unquote

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views import View

from accounts.forms import throttled_login_response
from accounts.models import User
from accounts.permissions import SALES_TEAM, RoleRequiredMixin, has_role
from bootcamps.models import Bootcamp
from cohortly.errors import SERVICE_ERRORS
from cohortly.http import posted_from_here
from cohortly.models import as_uuid
from cohortly.pagination import KeysFirstPaginator, page_number_digits
from enrollments.models import Enrollment
from enrollments.services import bootcamp_seats_left, enrollment_check_can_enroll
from leads import reports
from leads.exports import lead_csv_response
from leads.filtersets import OWNER_ME, LeadFilterSet, owner_choices
from leads.forms import (
    ConvertForm,
    DashboardPeriodForm,
    EmailAuthenticationForm,
    FollowUpForm,
    LeadEntryForm,
    NoteForm,
    OwnerForm,
    StatusForm,
    apply_service_errors,
)
from leads.models import Lead, LeadActivity
from leads.selectors import (
    lead_activity_list,
    lead_follow_ups_due,
    lead_get_for,
    lead_list_for,
    lead_status_counts,
)
from leads.services import (
    lead_add_note,
    lead_assign,
    lead_capture,
    lead_check_follow_up,
    lead_convert,
    lead_lock,
    lead_set_follow_up,
    lead_set_status,
)
from leads.submit_once import SubmitOnceMixin
from leads.templatetags import sales
from mail.selectors import suppression_for

PAGE_SIZE = 50
TZ_COOKIE = "tz"

#: Sortable columns of the list: (label, ordering field of LeadFilterSet).
LIST_COLUMNS = [
    ("Name", "full_name"),
    ("Status", "status"),
    ("Source", "source"),
    ("Bootcamp", "bootcamp__title"),
    ("Owner", "owner__full_name"),
    ("Next follow-up", "next_follow_up_at"),
    ("Created", "created_at"),
]


#: The list's orders as the phone's "Sort by" offers them (its column headers
#: are hidden there): every column both ways, in words for each kind of value.
SORT_CHOICES = [
    ("", "Newest first"),
    ("created_at", "Oldest first"),
    ("next_follow_up_at", "Next follow-up, soonest first"),
    ("-next_follow_up_at", "Next follow-up, latest first"),
    ("full_name", "Name, A to Z"),
    ("-full_name", "Name, Z to A"),
    ("status", "Status, New to Lost"),
    ("-status", "Status, Lost to New"),
    ("owner__full_name", "Owner, A to Z"),
    ("-owner__full_name", "Owner, Z to A"),
    ("bootcamp__title", "Bootcamp, A to Z"),
    ("-bootcamp__title", "Bootcamp, Z to A"),
    ("source", "Source, A to Z"),
    ("-source", "Source, Z to A"),
]


@functools.cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _user_timezone(request):
    """The browser's time zone (static/js/tz.js stores it in a cookie), else the site's.
    Only names from the tz database are accepted: the cookie is user input."""
    name = unquote(request.COOKIES.get(TZ_COOKIE, ""))[:64]
    if name in _known_timezones():
        return zoneinfo.ZoneInfo(name)
    return None


class SalesMixin(RoleRequiredMixin):
    """SALES and ADMIN only; pages render in the user's time zone."""

    allowed_roles = SALES_TEAM

    def dispatch(self, request, *args, **kwargs):
        tz = _user_timezone(request)
        with timezone.override(tz or timezone.get_default_timezone()):
            response = super().dispatch(request, *args, **kwargs)
            # Render inside the override so dates are shown in that zone.
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response


def _render(request, template, context, *, nav="", status=200):
    # `query`: the parameters the page's links carry on (pagination, tabs, sorting).
    context = {
        "nav": nav,
        "timezone_name": timezone.get_current_timezone_name(),
        "query": request.GET,
        **context,
    }
    return render(request, template, context, status=status)


# --- Login / logout --------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "sales/login.html"
    form_class = EmailAuthenticationForm

    def get(self, request, *args, **kwargs):
        # Already signed in to the sales pages: on to them. Anyone else signed
        # in (an admin session of a role these pages refuse) may sign in here.
        if has_role(request.user, SALES_TEAM):
            return redirect(self.get_success_url())
        self.unsaved = request.session.pop(UNSAVED_NOTE, "")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "unsaved": getattr(self, "unsaved", "")}

    def form_invalid(self, form):
        return throttled_login_response(super().form_invalid(form), form)


class LogoutView(auth_views.LogoutView):
    """Signing out is a POST (the Sign out button); the address opened by hand
    leads back to the pages, or to the sign-in form when signed out already."""

    http_method_names = ["get", "post", "options"]
    next_page = reverse_lazy("sales:login")

    def get(self, request, *args, **kwargs):
        return redirect("sales:lead_list" if request.user.is_authenticated else "sales:login")

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


# --- Lists -------------------------------------------------------------------------


def _owner_spelled(value: str) -> str:
    """An owner filter's value in the one spelling the page's select offers:
    "mine" as "me", a user's id in lower case with its dashes."""
    if value in OWNER_ME:
        return OWNER_ME[0]
    key = as_uuid(value)
    return str(key) if key is not None else value  # not an id: the filter says so above the list


def _tidy_query(request):
    """A redirect to the same list without empty parameters (what a GET form sends
    for untouched fields), and with an owner in the spelling the select offers,
    so shared and bookmarked URLs stay readable and Apply keeps every filter."""
    query = request.GET.copy()
    for key in list(query):
        kept = [v for v in query.getlist(key) if v != ""]
        if key == "owner":
            kept = [_owner_spelled(v) for v in kept]
        if kept:
            query.setlist(key, kept)
        else:
            del query[key]
    if list(query.lists()) == list(request.GET.lists()):
        return None
    query.pop("page", None)
    suffix = f"?{query.urlencode()}" if query else ""
    return HttpResponseRedirect(f"{request.path}{suffix}")


DATE_FILTERS = [
    ("created_after", "Created from"),
    ("created_before", "Created until"),
    ("follow_up_after", "Follow-up from"),
    ("follow_up_before", "Follow-up until"),
]


def _not_among_choices(field, values: list[str]) -> str:
    """Filter values left out for not being among the field's choices, in words
    (each value once), not Django's."""
    values = list(dict.fromkeys(values))
    shown = ", ".join(f"“{value}”" for value in values)
    return f"{field.label}: {shown} {'is' if len(values) == 1 else 'are'}n't one of the choices."


def _ignored_filter(field, values: list[str], errors) -> str:
    """Why a filter in the address is left out, naming what it was given."""
    if all(error.code == "invalid_choice" for error in errors):
        return _not_among_choices(field, values)
    shown = ", ".join(f"“{value}”" for value in dict.fromkeys(values))
    return f"{field.label} ({shown}): {' '.join(message for error in errors for message in error.messages)}"


def _without_wrong_choices(data, form):
    """`data` without the values of a several-valued filter that aren't among its
    choices, when some of its values are (?status=NEW&status=FOO lists the NEW
    leads, and says FOO was left out), and what was left out; None when nothing
    can be kept that way."""
    kept, dropped = data.copy(), {}
    for name, errors in form.errors.as_data().items():
        field = form.fields.get(name)
        valid_value = getattr(field, "valid_value", None)
        values = data.getlist(name)
        if valid_value is None or len(values) < 2 or any(error.code != "invalid_choice" for error in errors):
            continue
        good = [value for value in values if valid_value(value)]
        if good:
            kept.setlist(name, list(dict.fromkeys(good)))
            dropped[name] = [value for value in values if not valid_value(value)]
    return (kept, dropped) if dropped else None


def _page(queryset, raw):
    """The page of the list the address asks for: "last" the last one, a number past
    the end the last one, and anything else that isn't a page (0, -1, "abc") the
    first. Django's get_page turned 0 and -1 into the last page and "last" into the first."""
    paginator = KeysFirstPaginator(queryset, PAGE_SIZE)
    text = (raw or "").strip()
    if text == "last":
        return paginator.get_page(paginator.num_pages)
    number = page_number_digits(text)
    if number is None:
        return paginator.get_page(1)
    if len(number) > len(str(paginator.num_pages)):
        return paginator.get_page(paginator.num_pages)
    return paginator.get_page(number)


def _page_range(page):
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


def _columns(current: str):
    current = (current or "").split(",")[0]
    columns = []
    for label, field in LIST_COLUMNS:
        if current == field:
            direction, next_value = "ascending", f"-{field}"
        elif current == f"-{field}":
            direction, next_value = "descending", field
        else:
            direction, next_value = "", field
        columns.append({"label": label, "field": field, "sort": direction, "next": next_value})
    return columns


class LeadListView(SalesMixin, View):
    template_name = "sales/lead_list.html"

    def get(self, request, *args, **kwargs):
        tidy = _tidy_query(request)
        if tidy is not None:
            return tidy
        scope = lead_list_for(request.user)
        data, dropped = request.GET, {}
        filterset = LeadFilterSet(data, queryset=scope, request=request)
        if (narrowed := _without_wrong_choices(data, filterset.form)) is not None:
            data, dropped = narrowed
            filterset = LeadFilterSet(data, queryset=scope, request=request)
        form = filterset.form
        page = _page(filterset.qs, data.get("page"))
        # A value the list can't apply (a hand-edited or stale link) is left
        # out, and said so: beside the search box and a date field (the boxes
        # that show what was typed), above the list for the others.
        beside = {"search"} | {name for name, _label in DATE_FILTERS}
        ignored = [_not_among_choices(form[name], values) for name, values in dropped.items()] + [
            _ignored_filter(form[name], data.getlist(name), errors)
            for name, errors in form.errors.as_data().items()
            if name in form.fields and name not in beside
        ]
        applied = [
            name
            for name, values in data.lists()
            if name in filterset.filters
            and name != "ordering"
            and name not in form.errors
            and any(value.strip() for value in values)
        ]
        # The page's links and its form carry on only what applies.
        query = data.copy()
        for name in form.errors:
            query.pop(name, None)
        if request.session.get(sales.LIST_QUERY, "") != (shown := query.urlencode()):
            request.session[sales.LIST_QUERY] = shown
        selected = query.getlist("status")
        # The tabs count every status under the other filters.
        tab_query = query.copy()
        for key in ("status", "page", "ordering"):
            tab_query.pop(key, None)
        counts = lead_status_counts(LeadFilterSet(tab_query, queryset=scope, request=request).qs)
        tabs = [
            {
                "status": value,
                "label": label,
                "count": counts.get(value, 0),
                # One status listed: its tab is the page; several: each is marked as listed.
                "current": "page" if selected == [value] else ("true" if value in selected else ""),
            }
            for value, label in Lead.Status.choices
        ]
        # Every ordering value applies, the first first (as in the API), so the
        # page says the whole order, not just the last value's.
        ordering = ",".join(query.getlist("ordering"))
        columns = _columns(ordering)
        context = {
            "filterset": filterset,
            "form": form,
            "page_obj": page,
            "page_range": _page_range(page),
            "leads": page.object_list,
            "tabs": tabs,
            "total_count": sum(counts.values()),
            "all_current": not selected,
            "columns": columns,
            "sort_choices": SORT_CHOICES,
            "sort_values": [value for value, _ in SORT_CHOICES],
            # "-created_at" is the default, offered as "".
            "sort_current": "" if ordering == "-created_at" else ordering,
            "sorted_by": next((f"{c['label']} ({c['sort']})" for c in columns if c["sort"]), ""),
            "owner_choices": owner_choices(selected=str(form["owner"].value() or "")),
            "source_choices": Lead.Source.choices,
            "bootcamp_choices": _bootcamp_choices(),
            "selected_statuses": selected,
            "date_fields": [{"field": form[name], "label": label} for name, label in DATE_FILTERS],
            "show_more_filters": any(request.GET.get(name) for name, _label in DATE_FILTERS),
            "has_filters": bool(applied),
            "errors_beside": bool(beside & set(form.errors)),
            "ignored_filters": ignored,
            "query": query,
            "now": timezone.now(),
        }
        return _render(request, self.template_name, context, nav="leads")


def _bootcamp_choices():
    return list(Bootcamp.objects.order_by("-start_date", "title").values_list("pk", "title"))


class LeadExportView(SalesMixin, View):
    """The CSV of exactly the list's filters (every page of it)."""

    def get(self, request, *args, **kwargs):
        filterset = LeadFilterSet(request.GET, queryset=lead_list_for(request.user), request=request)
        stamp = timezone.localtime().strftime("%Y-%m-%d")
        return lead_csv_response(filterset.qs, filename=f"leads-{stamp}.csv", for_spreadsheets=True)


class FollowUpListView(SalesMixin, View):
    template_name = "sales/follow_ups.html"

    def get(self, request, *args, **kwargs):
        page = _page(lead_follow_ups_due(user=request.user), request.GET.get("page"))
        context = {
            "page_obj": page,
            "page_range": _page_range(page),
            "leads": page.object_list,
            "now": timezone.now(),
        }
        return _render(request, self.template_name, context, nav="follow_ups")


# --- The lead page and its actions ----------------------------------------------------


#: The session key of a note posted after the session had ended (LeadActionView),
#: shown once on the sign-in page to copy.
UNSAVED_NOTE = "sales_unsaved_note"


def _lead_page(request, lead, *, status=200, note="", **bound_forms):
    """The lead page; `bound_forms` replace the blank forms (after an error), and
    `note` is a note not added yet, back in its box."""
    forms = {
        "note_form": NoteForm(initial={"body": note} if note else None),
        "status_form": StatusForm(
            lead=lead,
            initial={
                "status": lead.status,
                "lost_reason": lead.lost_reason,
                "seen": LeadStatusView.watched(lead),
            },
        ),
        "owner_form": OwnerForm(
            lead=lead, initial={"owner": lead.owner_id, "seen": LeadOwnerView.watched(lead)}
        ),
        "follow_up_form": FollowUpForm(
            initial={"next_follow_up_at": lead.next_follow_up_at, "seen": LeadFollowUpView.watched(lead)}
        ),
        "convert_form": ConvertForm(lead=lead),
    }
    forms.update(bound_forms)
    context = {
        "lead": lead,
        "activities": lead_activity_list(lead=lead),
        # Seats are said only where a student can take one (or join the waitlist).
        "seats_left": (
            bootcamp_seats_left(lead.bootcamp)
            if lead.bootcamp_id and not lead.bootcamp.closed_to_enrollment
            else None
        ),
        "enrollment": lead.converted_enrollment,
        "email_suppression": suppression_for(lead.email),
        "waitlisted": getattr(lead.converted_enrollment, "status", None) == Enrollment.Status.WAITLISTED,
        "failed_form": next(iter(bound_forms), None),
        "follow_up_presets": list(FollowUpForm.PRESETS.items()),
        "now": timezone.now(),
        **forms,
    }
    return _render(request, "sales/lead_detail.html", context, nav="leads", status=status)


class LeadCreateView(SalesMixin, SubmitOnceMixin, View):
    """A prospect met by phone, at an event or walking in: entered as the public
    form's submissions are (lead_capture). An open lead with the email already
    there gets this on its timeline rather than a second lead."""

    template_name = "sales/lead_new.html"

    def repeat_fallback(self, request):
        return reverse("sales:lead_list")

    def get(self, request):
        form = LeadEntryForm(initial={"owner": request.user.pk})
        return _render(request, self.template_name, {"form": form}, nav="leads")

    def post(self, request):
        form = LeadEntryForm(request.POST)
        if form.is_valid():
            try:
                lead, created = lead_capture(**form.cleaned_data, actor=request.user)
            except SERVICE_ERRORS as exc:
                apply_service_errors(form, exc)
            else:
                if created:
                    messages.success(request, f"Lead added: {lead.full_name}.")
                else:
                    said = f"{lead.email} already had an open lead, {lead.full_name}"
                    chosen = form.cleaned_data["owner"]
                    if chosen is not None and chosen.pk != lead.owner_id:
                        whose = lead.owner.full_name or lead.owner.email if lead.owner else "nobody"
                        said += f" (its owner stays {whose}: change it there)"
                    messages.info(request, f"{said}: what you entered is on its timeline.")
                return redirect("sales:lead_detail", lead.pk)
        return _render(request, self.template_name, {"form": form}, nav="leads", status=200)


class LeadDetailView(SalesMixin, View):
    def get(self, request, pk):
        return _lead_page(request, lead_get_for(request.user, pk))


class ChangedMeanwhile(Exception):
    """What LeadActionView says instead of saving; raised, it rolls the save back."""


class LeadActionView(SalesMixin, SubmitOnceMixin, View, abc.ABC):
    """POST a form → call a service → redirect back to the lead with a message.
    On an error the lead page is shown again with this form bound (input kept).
    Each action (note, status, owner, follow-up, convert) says what it does in
    `perform`.

    A note typed but not yet added comes along with the other actions (the lead
    page's script posts it as `body`, the note form's field): after a call, a rep
    writes the note, picks the new status and saves once. It is added in the
    same transaction as the action, or, when either is refused, kept in its box
    with nothing saved."""

    form_class = None
    form_name = ""
    anchor = ""  # where the redirect lands on the lead page
    carries_note = True

    def get_form(self, lead):
        return self.form_class(self.request.POST)

    def back_to(self, lead) -> str:
        """The lead's page, at this action's form."""
        return reverse("sales:lead_detail", args=[lead.pk]) + self.anchor

    def repeat_fallback(self, request):
        return reverse("sales:lead_detail", args=[self.kwargs["pk"]]) + self.anchor

    @abc.abstractmethod
    def perform(self, lead, form) -> str:
        """Call the service; answer the confirmation message."""

    def confirmation(self, lead, form, note):
        """A page asking to confirm a valid action before it is done, or None
        (done at once)."""
        return None

    #: For an action that sets one value of the lead (a WatchedForm): the
    #: timeline's kind of change, and the value's name in a sentence.
    watched_kind = None
    watched_name = ""

    @staticmethod
    def watched(lead) -> str:
        """The value this action sets, as its form's `seen` holds it."""
        return ""

    def wanted(self, form) -> str:
        """The value the posted form asks for, as `watched` writes it."""
        return ""

    def label(self, lead, value: str) -> str:
        """`value` (as `watched` writes it) in words."""
        return value

    def changed_meanwhile(self, lead, form) -> str | None:
        """Why a valid form isn't saved: someone changed this value since the
        page showed it, and the form would set another one. None otherwise, or
        when the post says nothing of what the page showed. Seen once, the
        next save goes through."""
        seen = form.cleaned_data.get("seen") if "seen" in form.data else None
        current = self.watched(lead)
        if self.watched_kind is None or seen is None or seen == current or self.wanted(form) == current:
            return None
        form.saw(current)
        change = (
            lead.activities.filter(kind=self.watched_kind)
            .select_related("actor")
            .order_by("-created_at", "-pk")
            .first()
        )
        if change is None or change.actor is None:
            who = "someone"
        elif change.actor_id == self.request.user.pk:
            who = "you (in another tab)"
        else:
            who = change.actor.full_name or change.actor.email
        now, wanted = self.label(lead, current), self.label(lead, self.wanted(form))
        return (
            f"While this page was open, {who} changed the {self.watched_name} to {now}. "
            f"Nothing was saved: save again to make it {wanted}."
        )

    def handle_no_permission(self):
        # Signed out meanwhile (the session ran out, or was ended elsewhere): the
        # action is not done. Say so on the sign-in page, and keep a typed note
        # for the lead's page after signing in, rather than drop it.
        request = self.request
        if request.method == "POST" and not request.user.is_authenticated:
            # Shown once, on the sign-in page this browser goes to now, to copy: not
            # put back after signing in (whoever signs in next on this browser
            # isn't known to be who typed it), and only from our own pages.
            note = request.POST.get("body", "").strip() if posted_from_here(request) else ""
            said = "You were signed out, so that wasn't saved: sign in again"
            if note:
                request.session[UNSAVED_NOTE] = note
                said += ". Your note is below, to copy"
            messages.warning(request, said + ".")
        return super().handle_no_permission()

    def get(self, request, pk):
        # The address of a form that was shown again with its errors, reopened
        # (reloaded, from history, shared): the lead's page, where the form is.
        return redirect(self.back_to(lead_get_for(request.user, pk)))

    def post(self, request, pk):
        lead = lead_get_for(request.user, pk)
        form = self.get_form(lead)
        carried = self.carries_note and request.POST.get("body", "").strip()
        note = NoteForm(request.POST) if carried else None
        # Both checked before anything is done, so that both forms show their errors.
        valid = [form.is_valid(), note is None or note.is_valid()]
        if all(valid) and (meanwhile := self.changed_meanwhile(lead, form)):
            form.add_error(None, meanwhile)
            valid[0] = False
        if all(valid) and (confirming := self.confirmation(lead, form, note)) is not None:
            return confirming
        if all(valid):
            try:
                with transaction.atomic():
                    # Checked again on the lead as stored, under its lock: two reps saving
                    # at once (both "Assign to me" on a new lead) each passed the check
                    # above, and the second overwrote the first unseen.
                    if meanwhile := self.changed_meanwhile(lead_lock(lead=lead), form):
                        raise ChangedMeanwhile(meanwhile)
                    message = self.perform(lead, form)
                    if note is not None:
                        lead_add_note(lead=lead, actor=request.user, body=note.cleaned_data["body"])
                        message += " Your note was added too."
            except ChangedMeanwhile as exc:
                form.add_error(None, str(exc))
            except SERVICE_ERRORS as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, message)
                return redirect(self.back_to(lead))
        lead.refresh_from_db()
        # The form to fix first leads: the page's summary links to it.
        bound = {self.form_name: form}
        if note is not None:
            bound = {"note_form": note, **bound} if valid == [True, False] else {**bound, "note_form": note}
        return _lead_page(request, lead, **bound)


class LeadNoteView(LeadActionView):
    form_class = NoteForm
    form_name = "note_form"
    anchor = "#timeline"
    carries_note = False  # it is the note

    def perform(self, lead, form):
        lead_add_note(lead=lead, actor=self.request.user, body=form.cleaned_data["body"])
        return "Note added."


class LeadStatusView(LeadActionView):
    form_class = StatusForm
    form_name = "status_form"
    watched_kind = LeadActivity.Kind.STATUS_CHANGE
    watched_name = "status"

    @staticmethod
    def watched(lead) -> str:
        return lead.status

    def wanted(self, form) -> str:
        return form.cleaned_data["status"]

    def changed_meanwhile(self, lead, form) -> str | None:
        if lead.status == Lead.Status.CONVERTED:
            return None  # the service's refusal says it better: conversion is final
        return super().changed_meanwhile(lead, form)

    def label(self, lead, value: str) -> str:
        return Lead.Status(value).label

    def get_form(self, lead):
        return StatusForm(self.request.POST, lead=lead)

    def perform(self, lead, form):
        status = form.cleaned_data["status"]
        if status == lead.status and status != Lead.Status.LOST:
            return f"The status is still {lead.get_status_display()}."
        reason = form.cleaned_data["lost_reason"] if status == Lead.Status.LOST else None
        was = (lead.status, lead.lost_reason, lead.owner_id)
        lead = lead_set_status(lead=lead, actor=self.request.user, status=status, lost_reason=reason)
        if was[0] != Lead.Status.LOST or lead.status != Lead.Status.LOST:
            unassigned = (
                " It is unassigned now: its owner has left sales." if was[2] and not lead.owner_id else ""
            )
            return f"Status set to {lead.get_status_display()}.{unassigned}"
        return (
            "Lost reason updated."
            if lead.lost_reason != was[1]
            else "Nothing changed: the lead was already lost for that reason."
        )


class LeadOwnerView(LeadActionView):
    form_class = OwnerForm
    form_name = "owner_form"
    watched_kind = LeadActivity.Kind.OWNER_CHANGE
    watched_name = "owner"

    def get_form(self, lead):
        return OwnerForm(self.request.POST, lead=lead)

    @staticmethod
    def watched(lead) -> str:
        return str(lead.owner_id or "")

    def wanted(self, form) -> str:
        owner = form.cleaned_data["owner"]
        return str(owner.pk) if owner else ""

    def label(self, lead, value: str) -> str:
        if not value:
            return "nobody"
        person = User.objects.filter(pk=value).first()
        return (person.full_name or person.email) if person else "someone no longer here"

    def perform(self, lead, form):
        owner = form.cleaned_data["owner"]
        unchanged = lead.owner_id == (owner.pk if owner else None)
        lead_assign(lead=lead, actor=self.request.user, owner=owner)
        if owner is None:
            whose = "unassigned"
        elif owner.pk == self.request.user.pk:
            whose = "yours"
        else:
            whose = f"owned by {owner.full_name or owner.email}"
        return f"Nothing changed: the lead was already {whose}." if unchanged else f"The lead is now {whose}."


def _instant(when) -> str:
    """A moment as the follow-up form's `seen` holds it: in UTC, so that one
    moment written in two time zones is one value."""
    return when.astimezone(UTC).isoformat() if when else ""


class LeadFollowUpView(LeadActionView):
    form_class = FollowUpForm
    form_name = "follow_up_form"
    watched_kind = LeadActivity.Kind.FOLLOW_UP_CHANGE
    watched_name = "follow-up"

    @staticmethod
    def watched(lead) -> str:
        return _instant(lead.next_follow_up_at)

    def wanted(self, form) -> str:
        return _instant(form.cleaned_data["next_follow_up_at"])

    def label(self, lead, value: str) -> str:
        if not value:
            return "none"
        local = timezone.localtime(datetime.fromisoformat(value))
        return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"

    def changed_meanwhile(self, lead, form) -> str | None:
        # A time the rules refuse anyway (past, too far, a converted lead) gets that
        # refusal, not "save again to make it ...", which would then be refused.
        try:
            lead_check_follow_up(lead=lead, when=form.cleaned_data["next_follow_up_at"])
        except ValidationError:
            return None
        return super().changed_meanwhile(lead, form)

    def get_form(self, lead):
        return self.form_class(self.request.POST, stored=lead.next_follow_up_at)

    def perform(self, lead, form):
        when = form.cleaned_data["next_follow_up_at"]
        had = lead.next_follow_up_at
        lead_set_follow_up(lead=lead, actor=self.request.user, when=when)
        if when is None:
            return "Follow-up cleared." if had else "Nothing changed: no follow-up was set."
        local = timezone.localtime(when)
        shown = f"{local:%a} {local.day} {local:%b %Y, %H:%M}"
        if when == had:
            return f"Nothing changed: the follow-up is still {shown}."
        return f"Follow-up set for {shown}."


class LeadConvertView(LeadActionView):
    form_class = ConvertForm
    form_name = "convert_form"

    def get_form(self, lead):
        return ConvertForm(self.request.POST, lead=lead)

    def confirmation(self, lead, form, note):
        """Converting creates an account, enrolls and emails someone, and is
        final: a page says exactly that, and converts on its button. A lead the
        service would refuse (converted or lost, an email that is staff's) goes
        straight to the refusal."""
        if "cancel" in self.request.POST:
            # Back to the lead, with the note that came along back in its box.
            messages.info(self.request, "Not converted: nothing was done.")
            return _lead_page(self.request, lead, note=note.cleaned_data["body"] if note is not None else "")
        if self.request.POST.get("confirmed") == "yes" or not lead.is_open:
            return None
        student = User.objects.filter(email=lead.email).first()
        if student is not None and student.role != User.Role.STUDENT:
            return None
        bootcamp = form.cleaned_data["bootcamp"]
        if student is not None:
            # Already in that bootcamp, or an account deactivated: nothing to
            # confirm, the refusal says why at once (no page promising otherwise).
            try:
                enrollment_check_can_enroll(student=student, bootcamp=bootcamp, actor=self.request.user)
            except SERVICE_ERRORS:
                return None
        context = {
            "lead": lead,
            "bootcamp": bootcamp,
            "seats_left": form.fields["bootcamp"].seats_left.get(bootcamp.pk),
            "student": student,
            "sets_password": student is None or student.email_verified_at is None,
            "note": note.cleaned_data["body"] if note is not None else "",
        }
        return _render(self.request, "sales/convert_confirm.html", context, nav="leads")

    def perform(self, lead, form):
        bootcamp = form.cleaned_data["bootcamp"]
        lead = lead_convert(lead=lead, actor=self.request.user, bootcamp=bootcamp)
        enrollment = lead.converted_enrollment
        if enrollment is not None and enrollment.status == Enrollment.Status.WAITLISTED:
            return (
                f"Converted. {bootcamp.title} is full, so {lead.full_name} is on its waitlist; "
                "they'll get a seat when one frees up."
            )
        return f"Converted. {lead.full_name} is enrolled in {bootcamp.title}."


# --- Dashboard -------------------------------------------------------------------------


class DashboardView(SalesMixin, View):
    template_name = "sales/dashboard.html"

    def get(self, request, *args, **kwargs):
        tidy = _tidy_query(request)
        if tidy is not None:
            return tidy
        form = DashboardPeriodForm(request.GET or None, initial={"period": reports.DEFAULT_PERIOD})
        period = form.get_period() if form.is_bound else reports.period_for(reports.DEFAULT_PERIOD)
        context = {"form": form, **reports.dashboard(lead_list_for(request.user), period)}
        return _render(request, self.template_name, context, nav="dashboard")
