"""The back office for enrollments. Every change goes through
enrollments.services, so seats, the waitlist and the emails behave exactly as
in the API: cancelling or dropping here promotes the waitlist."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Case, When

from cohortly.admin import (
    AutocompleteRefusesJunk,
    CompactChangelist,
    SearchAtMostMaxTerms,
    ServiceErrorsMixin,
    badge,
    person_name,
    short_date,
)
from cohortly.errors import DomainError
from enrollments import services
from enrollments.models import Enrollment
from enrollments.selectors import enrollment_annotate_waitlist_position


class BootcampStatusFilter(admin.ChoicesFieldListFilter):
    """The bootcamp's status, titled so that it can't be mistaken for the
    enrollment's own status filter beside it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "bootcamp status"


class EnrollmentAddForm(forms.ModelForm):
    """Enroll a student: checked with the service's rules, saved by enrollment_create."""

    actor = None  # set by EnrollmentAdmin.get_form

    class Meta:
        model = Enrollment
        fields = ["student", "bootcamp"]

    def _get_validation_exclusions(self):
        # One row per pair is the service's rule, and it reuses a cancelled row,
        # so the form must not refuse a pair that already exists.
        return super()._get_validation_exclusions() | {"student", "bootcamp"}

    def clean(self):
        cleaned = super().clean()
        student, bootcamp = cleaned.get("student"), cleaned.get("bootcamp")
        if student and bootcamp:
            try:
                services.enrollment_check_can_enroll(student=student, bootcamp=bootcamp, actor=self.actor)
            except ValidationError as exc:
                self.add_error(None, exc)
            except DomainError as exc:
                self.add_error(None, str(exc))
        return cleaned


@admin.register(Enrollment)
class EnrollmentAdmin(
    SearchAtMostMaxTerms, AutocompleteRefusesJunk, CompactChangelist, ServiceErrorsMixin, admin.ModelAdmin
):
    add_form = EnrollmentAddForm
    # Short columns, the status next to the student, so that a row fits a
    # laptop beside the filters, and a phone shows who and in what state.
    list_display = ["student_name", "status_badge", "bootcamp", "enrolled"]
    list_display_links = ["student_name"]
    list_filter = ["status", ("bootcamp__status", BootcampStatusFilter), "bootcamp", "enrolled_at"]
    list_select_related = ["student", "bootcamp"]
    search_fields = ["student__email", "student__full_name", "bootcamp__title"]
    autocomplete_fields = ["student", "bootcamp"]
    date_hierarchy = "enrolled_at"
    actions = ["cancel_enrollments", "mark_completed", "mark_dropped"]
    readonly_fields = [
        "student",
        "bootcamp",
        "status",
        "waitlist_position",
        "enrolled_at",
        "completed_at",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        return enrollment_annotate_waitlist_position(super().get_queryset(request))

    @admin.display(description="Student", ordering="student__full_name")
    def student_name(self, obj):
        return person_name(obj.student)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        position = obj.waitlist_position if obj.status == Enrollment.Status.WAITLISTED else None
        if position and not obj.student.is_active:
            # They keep the place, passed over until active again (enrollments.services).
            return badge(obj.status, obj.get_status_display(), f"#{position}, passed over: deactivated")
        return badge(obj.status, obj.get_status_display(), f"#{position}" if position else "")

    @admin.display(description="Enrolled", ordering="enrolled_at")
    def enrolled(self, obj):
        return short_date(obj.enrolled_at)

    @admin.display(description="Waitlist position", ordering="waitlist_position")
    def waitlist_position(self, obj):
        return getattr(obj, "waitlist_position", None) or self.get_empty_value_display()

    # An enrollment is added with the add form and changed with the actions;
    # its page is read-only and it is never deleted (its history matters).
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["student", "bootcamp"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user
        for name in ("student", "bootcamp"):
            if name in form.base_fields:
                # Enrolling someone is no place to edit or delete the student or the
                # bootcamp (the ✗ beside them would delete the person, not the choice).
                widget = form.base_fields[name].widget
                widget.can_change_related = widget.can_delete_related = False
        return form

    def save_model(self, request, obj, form, change):
        # The form checked the rules; one that fails now (a race with another
        # enrollment of the pair) is shown by ServiceErrorsMixin.
        enrollment = services.enrollment_create(
            student=form.cleaned_data["student"],
            bootcamp=form.cleaned_data["bootcamp"],
            actor=request.user,
        )
        verb = "is on the waitlist" if enrollment.status == Enrollment.Status.WAITLISTED else "has a seat"
        self.message_user(request, f"{enrollment.student} {verb} in {enrollment.bootcamp}.", messages.INFO)
        obj.pk = enrollment.pk
        obj.status = enrollment.status
        obj._state.adding = False
        obj._state.db = enrollment._state.db

    def _apply(self, request, queryset, operation, done: str):
        """Apply `operation` (a service) to each enrollment; the message names
        whoever the freed seats went to, and their History says so."""
        promoted = []

        def apply(enrollment):
            seated = operation(enrollment).promoted
            freed_by = person_name(enrollment.student)
            for other in seated:
                self.log_change(request, other, f"Promoted from the waitlist (a seat freed by {freed_by}).")
            promoted.extend(seated)

        def message(count):
            text = f"{count} {'enrollment' if count == 1 else 'enrollments'} {done}."
            if promoted:
                names = ", ".join(f"{person_name(e.student)} ({e.bootcamp})" for e in promoted)
                text += f" Promoted from the waitlist: {names}."
            return text

        # The waitlisted rows first: an earlier row's freed seat would otherwise promote
        # a selected one (emailing "you're in") before its own turn came, and then
        # drop or cancel it as the ACTIVE enrollment it had just become. Each row is
        # judged in the state it was selected in; a refused one keeps its place.
        waitlisted_first = Case(When(status=Enrollment.Status.WAITLISTED, then=0), default=1)
        self.apply_each(
            request,
            queryset.select_related("student", "bootcamp").order_by(waitlisted_first, "bootcamp_id", "pk"),
            apply,
            done=message,
            log=f"{done.capitalize()} (action).",
        )

    def _confirm_then_apply(
        self,
        request,
        queryset,
        operation,
        *,
        done: str,
        title: str,
        becomes: str,
        frees_seats: bool,
        submit: str,
    ):
        """Ask first (ServiceErrorsMixin.confirmed: what becomes of the selected
        enrollments), then apply `operation` to each (_apply)."""
        consequences = [f"Each selected enrollment that can be {becomes.lower()} becomes {becomes}."]
        if frees_seats:
            consequences.append(
                "A seat that frees goes at once to the first student on that bootcamp's waitlist."
            )
        consequences.append(
            "Each student is emailed, and so is anyone promoted from a waitlist."
            if frees_seats
            else "Each student is emailed."
        )
        asked = self.confirmed(
            request,
            queryset.select_related("student", "bootcamp").order_by("bootcamp__title", "student__email"),
            title=title,
            consequences=consequences,
            submit=submit,
            describe=lambda e: (
                f"{person_name(e.student)} <{e.student.email}> in {e.bootcamp}: {e.get_status_display()}"
            ),
        )
        if asked is None:
            self._apply(request, queryset, operation, done)
        return asked

    @admin.action(description="Cancel selected enrollments (promotes the waitlist)")
    def cancel_enrollments(self, request, queryset):
        return self._confirm_then_apply(
            request,
            queryset,
            lambda e: services.enrollment_cancel(enrollment=e),
            done="cancelled",
            title="Cancel enrollments",
            becomes="CANCELLED",
            frees_seats=True,
            submit="Cancel them",
        )

    @admin.action(description="Mark completed")
    def mark_completed(self, request, queryset):
        return self._confirm_then_apply(
            request,
            queryset,
            lambda e: services.enrollment_set_status(enrollment=e, status=Enrollment.Status.COMPLETED),
            done="marked completed",
            title="Mark completed",
            becomes="COMPLETED",
            frees_seats=False,
            submit="Mark completed",
        )

    @admin.action(description="Mark dropped (promotes the waitlist)")
    def mark_dropped(self, request, queryset):
        return self._confirm_then_apply(
            request,
            queryset,
            lambda e: services.enrollment_set_status(enrollment=e, status=Enrollment.Status.DROPPED),
            done="marked dropped",
            title="Mark dropped",
            becomes="DROPPED",
            frees_seats=True,
            submit="Mark dropped",
        )
