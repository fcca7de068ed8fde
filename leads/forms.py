"""Forms of the sales workspace. They parse and present; the rules live in
the services, whose refusals are mapped back onto these forms (apply_service_errors)."""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.forms import ThrottledLoginMixin
from accounts.models import User, name_validator, phone_validator
from accounts.permissions import SALES_TEAM, has_role
from bootcamps.models import Bootcamp, open_for_enrollment
from bootcamps.selectors import bootcamp_annotate_seats
from cohortly.errors import DomainError
from cohortly.models import email_validator
from leads import reports
from leads.filtersets import owner_label
from leads.models import Lead
from leads.selectors import lead_owner_choices
from leads.services import lead_allowed_transitions

#: What a refusal means on these pages, said after the service's own words where
#: the way out they name isn't on the pages (a lead's email can't be changed here).
PAGE_HINTS = {
    "not_a_student": "These pages can't change a lead's email: an admin can, in the back office.",
}


def apply_service_errors(form: forms.Form, exc: DomainError | ValidationError) -> None:
    """Put a service's ValidationError beside the matching fields of `form`;
    errors about anything the form doesn't show, and domain errors (a
    conflict, not allowed, busy), become form-wide errors, followed by the
    pages' hint for its code (PAGE_HINTS)."""
    _apply_service_errors(form, exc)
    codes = {getattr(exc, "code", None)}
    if isinstance(exc, ValidationError) and not hasattr(exc, "error_dict"):
        codes |= {error.code for error in exc.error_list}
    for code in sorted(codes - {None}):
        if code in PAGE_HINTS:
            form.add_error(None, PAGE_HINTS[code])


def _apply_service_errors(form: forms.Form, exc: DomainError | ValidationError) -> None:
    if isinstance(exc, DomainError):
        form.add_error(None, str(exc))
    elif hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            if target is None:
                messages = [m for error in errors for m in error.messages]
                form.add_error(None, ValidationError(messages))
            else:
                form.add_error(target, ValidationError(errors))
    else:
        form.add_error(None, exc)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name or obj.email

    def to_python(self, value):
        # Not an id at all ("xyz"): the choice's error, not the UUID field's
        # "“xyz” is not a valid UUID." (ModelChoiceField lets that one through).
        try:
            return super().to_python(value)
        except ValidationError as exc:
            if exc.code == "invalid_choice":
                raise
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None


class OwnerChoiceField(UserChoiceField):
    def label_from_instance(self, obj):
        return owner_label(obj)


class EmailAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """Django's login form, asking for the email address the accounts use.

    Password attempts count against the limit the API's and the admin's logins
    share (accounts.login_throttle). Roles that may not use the sales pages get
    no session and exactly the wrong-password error, so a right guess at a
    student's or instructor's password is not confirmed by a different answer."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.label = "Email"
        field.widget = forms.EmailInput(
            attrs={"autocomplete": "email", "autofocus": True, "maxlength": 254, "spellcheck": "false"}
        )
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password don't match an account. Check both and try again.",
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not has_role(user, SALES_TEAM):  # the rule the pages enforce (leads.views.SalesMixin)
            raise self.get_invalid_login_error()


class LongTextField(forms.CharField):
    """Text whose length the server checks, not the browser: a page with
    `maxlength` would cut a longer paste short without a word, and the rep would
    save half a call's notes. The form answers with the lengths instead, keeping
    every character typed."""

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs

    def to_python(self, value):
        # A browser sends a textarea's line breaks as CRLF: one character each, as
        # the rep typed them, counted and stored.
        return super().to_python(value.replace("\r\n", "\n") if isinstance(value, str) else value)


class NoteForm(forms.Form):
    body = LongTextField(
        label="Note",
        max_length=10000,
        # A visible hint: text shown inside the box would go as the rep starts typing.
        help_text="What happened, and what's next.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Write something before saving the note.",
            "max_length": "A note holds at most %(limit_value)d characters and this one has %(show_value)d: "
            "split it into two notes.",
        },
    )


class WatchedForm(forms.Form):
    """A form that changes one value of a lead, posting back the value the page
    showed (`seen`): a change someone else made meanwhile is not overwritten
    unseen (leads.views.LeadActionView.changed_meanwhile)."""

    seen = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One lead page shows several of these forms: an id of its own for each
        # form's hidden field (all were id_seen, which a page may have once).
        name = type(self).__name__.removesuffix("Form").lower()
        self.fields["seen"].widget.attrs["id"] = f"id_{name}_seen"

    def saw(self, value: str) -> None:
        """Now the page shows `value`: the next save of this form may change it."""
        self.data = self.data.copy()
        self.data[self.add_prefix("seen")] = value


class AnyStatusField(forms.ChoiceField):
    """Offers some statuses, accepts any: whether a move is allowed is the
    service's to say, in its words (a page may be older than the lead's status)."""

    def valid_value(self, value):
        return value in Lead.Status.values


class StatusForm(WatchedForm):
    """Offers the lead's current status and the moves the service allows from
    it (CONVERTED is reached only through conversion)."""

    status = AnyStatusField(label="Status", choices=Lead.Status.choices)
    lost_reason = LongTextField(
        label="Reason it was lost",
        required=False,
        max_length=1000,
        help_text="Required when the status is Lost.",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "max_length": "A reason holds at most %(limit_value)d characters and this one has %(show_value)d."
        },
    )

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = set(lead_allowed_transitions(lead))
        self.fields["status"].choices = [
            (value, f"{label} (now)" if value == lead.status else label)
            for value, label in Lead.Status.choices
            if value == lead.status or value in allowed
        ]


class OwnerForm(WatchedForm):
    """Anyone in sales, or the lead's current owner whoever they are now (a rep
    since deactivated): the select shows who owns the lead, and saving it as
    shown keeps them rather than unassigning it."""

    owner = OwnerChoiceField(
        label="Assigned to", queryset=User.objects.none(), required=False, empty_label="Unassigned"
    )

    def __init__(self, *args, lead=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = lead_owner_choices(keeping=lead)


class LocalDateTimeField(forms.DateTimeField):
    """A moment typed as the wall clock reads in the user's time zone. On the night
    the clocks change, a time that never happens (02:30 as they go forward) or
    happens twice (01:30 as they go back) is said in those words, not Django's
    "couldn't be interpreted ... it may be ambiguous or it may not exist"."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as exc:
            if getattr(exc, "code", None) != "ambiguous_timezone":
                raise
            naive = self._wall_clock(str(value).strip())
            zone = timezone.get_current_timezone()
            first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
            when = f"{naive:%H:%M} on {naive.day} {naive:%b %Y}"
            if first.utcoffset() < second.utcoffset():  # clocks went forward past it
                message = f"{when} doesn't happen in {zone}: the clocks go forward then. Choose another time."
                raise ValidationError(message, code="nonexistent_time") from None
            message = f"{when} happens twice in {zone}, as the clocks go back: choose a time an hour apart."
            raise ValidationError(message, code="ambiguous_time") from None

    def _wall_clock(self, text: str) -> datetime:
        for candidate in self.input_formats:
            try:
                return datetime.strptime(text, candidate)
            except ValueError:
                continue
        parsed = parse_datetime(text)  # what Django's field also takes (seconds, a space)
        if parsed is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed.replace(tzinfo=None)


class FollowUpForm(WatchedForm):
    PRESETS = {
        "tomorrow": "Tomorrow 9:00",
        "3days": "In 3 days",
        "nextweek": "Next Monday",
        "clear": "Clear",
    }

    next_follow_up_at = LocalDateTimeField(
        label="Next follow-up",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In your time zone. Leave empty to clear it.",
    )
    # The quick buttons' values; checked in clean() so a bad one is said above
    # the form (a hidden field has nowhere to show its error).
    preset = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, stored: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored = stored  # the lead's follow-up as saved

    def clean(self):
        cleaned = super().clean()
        preset = cleaned.get("preset")
        if preset:
            if preset not in self.PRESETS:
                raise ValidationError(
                    "That quick follow-up isn't offered: pick a date, or one of the buttons.",
                    code="invalid_preset",
                )
            cleaned["next_follow_up_at"] = self.preset_value(preset)
        elif self.stored is not None and cleaned.get("next_follow_up_at") == self.stored.replace(
            second=0, microsecond=0
        ):
            # The field shows minutes: the saved time sent back as shown is that
            # time, not a change to the minute (nor, once overdue, one to refuse).
            cleaned["next_follow_up_at"] = self.stored
        return cleaned

    @staticmethod
    def preset_value(preset: str, now=None):
        now = timezone.localtime(now)
        nine = time(9, 0)

        def at_nine(day):
            return timezone.make_aware(datetime.combine(day, nine))

        today = now.date()
        if preset == "tomorrow":
            return at_nine(today + timedelta(days=1))
        if preset == "3days":
            return at_nine(today + timedelta(days=3))
        if preset == "nextweek":
            return at_nine(today + timedelta(days=7 - today.weekday()))
        return None


class BootcampChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        self.seats_left = {}
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        seats = self.seats_left.get(obj.pk)
        starts = "started" if obj.has_started else "starts"
        start = f"{starts} {obj.start_date.day} {obj.start_date:%b %Y}"
        if seats is None:
            return f"{obj.title} · {start}"
        # The seats before the date: a narrow select cuts off the end of its label.
        if seats == 0:
            return f"{obj.title} · full: waitlist · {start}"
        return f"{obj.title} · {seats} seat{'s' if seats != 1 else ''} left · {start}"


class ConvertForm(forms.Form):
    bootcamp = BootcampChoiceField(
        label="Enroll in bootcamp",
        queryset=Bootcamp.objects.none(),
        empty_label="Choose a bootcamp…",
        error_messages={
            "required": "Choose the bootcamp to enroll the student in.",
            # Offered when the page was shown, ended or archived since (or never offered).
            "invalid_choice": "That bootcamp isn't open for enrollment any more: choose another.",
        },
    )

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        open_bootcamps = Bootcamp.objects.filter(open_for_enrollment()).order_by("start_date", "title")
        # Seats counted by the database in the same query (never stored).
        bootcamps = list(bootcamp_annotate_seats(open_bootcamps))
        field = self.fields["bootcamp"]
        field.queryset = open_bootcamps
        field.seats_left = {b.pk: b.seats_left for b in bootcamps}
        self.options = [{"bootcamp": b, "seats_left": b.seats_left} for b in bootcamps]
        self.any_full = any(b.seats_left == 0 for b in bootcamps)
        # The bootcamp of interest is offered first, unless it is full: a waitlist
        # is a choice made on purpose, not by leaving the select as it was.
        if field.seats_left.get(lead.bootcamp_id) and not self.is_bound:
            self.initial.setdefault("bootcamp", lead.bootcamp_id)


class LeadEntryForm(forms.Form):
    """A prospect the sales team meets itself (a call, a walk-in, an event):
    entered as the public form's submissions are, through lead_capture."""

    # The lead's own rules, so that every field's error shows at once, rather than
    # the name's first and the email's and phone's (the service's) after a resubmit.
    # LongTextField: the server measures them, a box's maxlength would cut a paste short.
    full_name = LongTextField(
        label="Name", max_length=Lead._meta.get_field("full_name").max_length, validators=[name_validator]
    )
    email = LongTextField(
        label="Email", max_length=254, widget=forms.EmailInput(), validators=[validate_email, email_validator]
    )
    phone = LongTextField(
        label="Phone",
        required=False,
        max_length=Lead._meta.get_field("phone").max_length,
        validators=[phone_validator],
    )
    source = forms.ChoiceField(label="How they came", choices=[("", "Choose…"), *Lead.Source.choices])
    bootcamp = forms.ModelChoiceField(
        label="Bootcamp of interest", queryset=Bootcamp.objects.none(), required=False, empty_label="None yet"
    )
    owner = UserChoiceField(
        label="Owner", queryset=User.objects.none(), required=False, empty_label="Unassigned"
    )
    message = LongTextField(
        label="What they asked",
        required=False,
        max_length=Lead._meta.get_field("message").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on the lead as their message.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = lead_owner_choices()
        self.fields["bootcamp"].queryset = Bootcamp.objects.filter(open_for_enrollment()).order_by(
            "start_date", "title"
        )


FUTURE_START_WITHOUT_END = "Without an end date the period ends today: start it today or before."


class DashboardPeriodForm(forms.Form):
    period = forms.ChoiceField(
        label="Period", choices=reports.PERIOD_CHOICES, required=False, initial=reports.DEFAULT_PERIOD
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("period") == reports.CUSTOM:
            start, end = cleaned.get("start"), cleaned.get("end")
            if not start:
                self.add_error("start", "Choose the first day of the period.")
            if start and end and end < start:
                self.add_error("end", "The end date must be on or after the start date.")
            elif start and not end and start > timezone.localdate():
                # Without an end the period runs to today, which would come before it.
                self.add_error("start", FUTURE_START_WITHOUT_END)
        return cleaned

    def get_period(self) -> reports.Period:
        data = self.cleaned_data if self.is_valid() else {}
        return reports.period_for(
            data.get("period") or reports.DEFAULT_PERIOD, start=data.get("start"), end=data.get("end")
        )
