"""The back office for coursework. Writes go through the services, so the rules
(who authors, late flags, score limits) and the grade email hold here too."""

from datetime import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from assignments import services
from assignments.api.renderers import GradebookCSVRenderer, gradebook_download_headers
from assignments.api.serializers import GradebookSerializer
from assignments.models import Assignment, Submission, awaiting_revision
from assignments.selectors import bootcamp_gradebook
from bootcamps.models import Bootcamp
from cohortly.admin import (
    PLAIN_DECIMALS,
    ChangedSinceShownMixin,
    CompactChangelist,
    DeleteBlockersExplained,
    ListsAtMost,
    PlainDecimalFormField,
    SearchAtMostMaxTerms,
    ServiceErrorsMixin,
    badge,
    person_name,
    short_date,
)
from cohortly.dates import site_today
from cohortly.spreadsheets import SPREADSHEET_BOM


class SubmissionInline(ListsAtMost, admin.TabularInline):
    """An assignment's submissions, read-only; each links to its grade form."""

    model = Submission
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["student", "submitted_at", "is_late", "score", "graded_by", "graded_at"]
    readonly_fields = fields
    ordering = ["student__full_name", "student__email"]
    see_all = "every one is in the submission list"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("student", "graded_by", "assignment")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _graded(submission) -> str:
    """A submission's grade in words, for the History and the action's confirmation."""
    if submission.awaits_revision:
        return "already returned for revision"
    if submission.score is None:
        return "not graded"
    return f"graded {submission.score.normalize():f} / {submission.assignment.max_score.normalize():f}"


def gradebook_page(request, model_admin, bootcamp) -> TemplateResponse:
    """A bootcamp's gradebook in the back office (the bootcamp admin's Gradebook
    link): the API's table (bootcamp_gradebook), one student per row."""
    gradebook = bootcamp_gradebook(bootcamp=bootcamp)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Gradebook: {bootcamp.title}",
        "opts": model_admin.opts,
        "original": bootcamp,
        "gradebook": gradebook,
        # An archived or finished cohort has nobody "yet": its seats and work are history.
        "is_over": bootcamp.status == Bootcamp.Status.ARCHIVED or bootcamp.end_date < site_today(),
        "rows": [(row, zip(gradebook.assignments, row.cells, strict=True)) for row in gradebook.rows],
    }
    return TemplateResponse(request, "admin/assignments/gradebook.html", context)


def gradebook_csv_download(bootcamp) -> HttpResponse:
    """The same table as the API's gradebook.csv, for the back office's session."""
    data = GradebookSerializer(bootcamp_gradebook(bootcamp=bootcamp)).data
    return HttpResponse(
        SPREADSHEET_BOM.encode() + GradebookCSVRenderer().render(data),
        content_type="text/csv; charset=utf-8",
        headers=gradebook_download_headers(bootcamp),
    )


class AssignmentInline(ListsAtMost, admin.TabularInline):
    """For the bootcamp admin page: its assignments, read-only, each linking to
    its own page (adding and editing happen there, through the services, which
    record the author and re-flag late work)."""

    model = Assignment
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["title", "due_at", "max_score", "is_published", "submission_count"]
    readonly_fields = fields
    ordering = ["due_at", "id"]
    see_all = "every one is in the assignment list"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_submission_count=Count("submissions"))

    @admin.display(description="Submissions")
    def submission_count(self, obj):
        return getattr(obj, "_submission_count", None)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AssignmentAdminForm(forms.ModelForm):
    class Meta:
        model = Assignment
        fields = ["bootcamp", "title", "description", "due_at", "max_score", "is_published"]

    def clean(self):
        cleaned = super().clean()
        max_score = cleaned.get("max_score")
        if self.instance.pk and max_score is not None and "max_score" in self.changed_data:
            try:
                services.assignment_check_max_score(assignment=self.instance, max_score=max_score)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


def _copy_into(target, source):
    """The admin keeps using the object it passed to save_model."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


@admin.register(Assignment)
class AssignmentAdmin(
    SearchAtMostMaxTerms,
    DeleteBlockersExplained,
    ChangedSinceShownMixin,
    ServiceErrorsMixin,
    admin.ModelAdmin,
):
    hold_row_while_saving = True  # its service locks the row first
    # Submissions are students' work and grades (assignment_delete).
    delete_instead = (
        "Unpublish the assignment instead: students no longer see it, and their work stays on record."
    )
    form = AssignmentAdminForm
    formfield_overrides = PLAIN_DECIMALS
    # What a row needs on a laptop beside the filters; the maximum and the author are on its page.
    list_display = ["title", "bootcamp", "due", "published", "submission_count"]
    list_filter = ["bootcamp", "is_published", ("due_at", admin.DateFieldListFilter)]
    list_select_related = ["bootcamp", "created_by"]
    search_fields = ["title", "description", "bootcamp__title"]
    date_hierarchy = "due_at"
    ordering = ["-due_at", "-id"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    inlines = [SubmissionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_submission_count=Count("submissions"))

    def get_readonly_fields(self, request, obj=None):
        # An assignment's submissions and grades belong to its bootcamp.
        return [*self.readonly_fields, "bootcamp"] if obj else self.readonly_fields

    @admin.display(description="Handed in", ordering="_submission_count")
    def submission_count(self, obj):
        return obj._submission_count

    @admin.display(description="Published", boolean=True, ordering="is_published")
    def published(self, obj):
        return obj.is_published

    @admin.display(description="Due", ordering="due_at")
    def due(self, obj):
        return short_date(obj.due_at)

    def save_model(self, request, obj, form, change):
        fields = [name for name in services.ASSIGNMENT_EDITABLE_FIELDS if name in form.cleaned_data]
        if change:
            saved = services.assignment_update(
                assignment=obj,
                updated_by=request.user,
                data={name: form.cleaned_data[name] for name in fields if name in form.changed_data},
            )
        else:
            saved = services.assignment_create(
                created_by=request.user,
                bootcamp=form.cleaned_data["bootcamp"],
                **{name: form.cleaned_data[name] for name in fields},
            )
        _copy_into(obj, saved)

    def delete_model(self, request, obj):
        services.assignment_delete(assignment=obj, deleted_by=request.user)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            services.assignment_delete(assignment=assignment, deleted_by=request.user)


class GradedFilter(admin.SimpleListFilter):
    title = "graded"
    parameter_name = "graded"

    def lookups(self, request, model_admin):
        return [("yes", "Graded"), ("no", "Awaiting a grade"), ("returned", "Returned for revision")]

    def queryset(self, request, queryset):
        returned = awaiting_revision()
        if self.value() == "yes":
            return queryset.filter(score__isnull=False)
        if self.value() == "no":
            return queryset.filter(score__isnull=True).exclude(returned)
        if self.value() == "returned":
            return queryset.filter(returned)
        return queryset


class SubmissionGradeForm(forms.ModelForm):
    """The grade form: score and feedback only; the service checks the range too."""

    score = PlainDecimalFormField(max_digits=6, decimal_places=2, min_value=0, required=True)
    # When the work shown on the page was handed in (to the microsecond, which a
    # DateTimeField's widget drops): work handed in again since isn't graded.
    shown_submitted_at = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Submission
        fields = ["score", "feedback"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["shown_submitted_at"] = self.instance.submitted_at.isoformat()

    def clean(self):
        cleaned = super().clean()
        score = cleaned.get("score")
        if score is not None:
            try:
                services.submission_check_score(assignment=self.instance.assignment, score=score)
            except ValidationError as exc:
                self.add_error(None, exc)
        if (
            self.instance.pk is not None
            and self.instance.score is None
            and score is not None
            and "score" not in self.changed_data
        ):
            # The page showed a grade that was withdrawn since (returned for revision):
            # saving it as shown would grade it again without anyone deciding to. The
            # page shows it ungraded now; a score entered there grades it.
            self.data = self.data.copy()
            for key in ("score", "initial-score"):
                self.data[key] = ""
            self.add_error(
                None,
                ValidationError(
                    "This work was returned for revision after you opened it, and its grade "
                    "withdrawn: to grade it anyway, enter a score and save.",
                    code="returned",
                ),
            )
        shown = cleaned.get("shown_submitted_at")
        stored = self.instance.submitted_at
        if shown is not None and not services.same_hand_in(shown, stored):
            # The page shows the new work now (it is read afresh): it counts as the one
            # read, so saving again grades it.
            self.data = self.data.copy()
            for key in ("shown_submitted_at", "initial-shown_submitted_at"):
                self.data[key] = stored.isoformat()
            self.add_error(
                None,
                ValidationError(
                    "The student handed this work in again after you opened it: read what they "
                    "handed in (shown below now), then save again to grade it.",
                    code="handed_in_again",
                ),
            )
        return cleaned

    def clean_shown_submitted_at(self):
        value = self.cleaned_data["shown_submitted_at"]
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:  # the page always writes the offset
            raise ValidationError("The page is damaged: open the submission again.", code="invalid")
        return moment


@admin.register(Submission)
class SubmissionAdmin(
    SearchAtMostMaxTerms, CompactChangelist, ChangedSinceShownMixin, ServiceErrorsMixin, admin.ModelAdmin
):
    """Submissions come from students; here staff read and grade them. Saving
    the form grades through `submission_grade` (grader, time, email)."""

    form = SubmissionGradeForm
    hold_row_while_saving = True  # as its service locks: the assignment's row, then this one
    actions = ["return_for_revision"]
    # Short columns, the grade third, so that a row fits a laptop beside the filters
    # (the rest is on the submission's page).
    list_display = ["student_name", "assignment_title", "grade", "submitted", "bootcamp"]
    list_display_links = ["student_name"]
    list_filter = [GradedFilter, "is_late", "assignment__bootcamp"]
    list_select_related = ["student", "assignment__bootcamp"]
    search_fields = ["student__email", "student__full_name", "assignment__title"]
    date_hierarchy = "submitted_at"
    ordering = ["-submitted_at", "-id"]
    fields = [
        "assignment",
        "student",
        "content",
        "link",
        "submitted_at",
        "handed_in",
        "max_score",
        "score",
        "feedback",
        "shown_submitted_at",
        "graded_by",
        "graded_at",
        "returned_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "assignment",
        "student",
        "content",
        "link",
        "submitted_at",
        "handed_in",
        "max_score",
        "graded_by",
        "graded_at",
        "returned_at",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="Bootcamp", ordering="assignment__bootcamp__title")
    def bootcamp(self, obj):
        return obj.assignment.bootcamp

    @admin.display(description="Student", ordering="student__full_name")
    def student_name(self, obj):
        return person_name(obj.student)

    @admin.display(description="Assignment", ordering="assignment__title")
    def assignment_title(self, obj):
        return obj.assignment.title

    @admin.display(description="Grade", ordering="score")
    def grade(self, obj):
        if obj.awaits_revision:
            return badge("returned", "Returned for revision")
        if obj.score is None:
            return badge("submitted", "Awaiting a grade")
        return f"{obj.score.normalize():f} / {obj.assignment.max_score.normalize():f}"

    @admin.display(description="Submitted", ordering="submitted_at")
    def submitted(self, obj):
        late = badge("late", "Late") if obj.is_late else ""
        return (
            format_html("{} {}", short_date(obj.submitted_at), late) if late else short_date(obj.submitted_at)
        )

    @admin.display(description="Handed in")
    def handed_in(self, obj):
        # In words: a ✗ beside "Submitted after the due date" read as a contradiction.
        if obj.is_late:
            return f"Late: after the due date ({short_date(obj.assignment.due_at)})"
        return "On time"

    @admin.display(description="Max score")
    def max_score(self, obj):
        return obj.assignment.max_score

    @admin.action(description="Return selected for revision (withdraws the grade, emails the student)")
    def return_for_revision(self, request, queryset):
        queryset = queryset.select_related("student", "assignment")
        asked = self.confirmed(
            request,
            queryset.order_by("assignment__title", "student__email"),
            title="Return for revision",
            consequences=[
                "Each selected submission's grade is withdrawn (the History keeps the score); its "
                "feedback stays, as what to revise.",
                "Each student is emailed that the work came back, and can hand it in again.",
            ],
            submit="Return them",
            describe=lambda s: (
                f"{person_name(s.student)} <{s.student.email}>: {s.assignment.title}, {_graded(s)}"
            ),
        )
        if asked is not None:
            return asked
        self.apply_each(
            request,
            queryset,
            lambda submission: services.submission_return(submission=submission, returned_by=request.user),
            done=lambda count: (
                f"{count} {'submission' if count == 1 else 'submissions'} returned for revision; "
                "their students were emailed and can hand the work in again."
            ),
            log=lambda s: f"Returned for revision (grade withdrawn: {_graded(s)}).",
            already=lambda s: s.awaits_revision,
            already_said="returned for revision",
        )
        return None

    def hold_for_saving(self, obj) -> None:
        services.submission_lock_for_grading(obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # A student's work and its grade stay on record: the API deletes none
        # either, and the gradebook would lose the row without a trace.
        return False

    def save_model(self, request, obj, form, change):
        changed = set(form.changed_data)
        if {"score", "feedback"} & changed:
            # Only what was changed on the page: a score or feedback given meanwhile stays.
            score = (
                form.cleaned_data["score"]
                if "score" in changed
                else Submission.objects.values_list("score", flat=True).get(pk=obj.pk)
            )
            saved = services.submission_grade(
                submission=obj,
                grader=request.user,
                score=score,
                feedback=form.cleaned_data.get("feedback", "") if "feedback" in changed else None,
                submitted_at=form.cleaned_data.get("shown_submitted_at"),
            )
            _copy_into(obj, saved)
