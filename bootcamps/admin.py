"""The back office for bootcamps. Writes go through bootcamps.services, so the
admin obeys the same rules as the API (slugs, roles, capacity vs seats taken,
waitlist promotion, no deletes of bootcamps with enrollments)."""

import functools

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, When
from django.http import Http404
from django.urls import path, reverse
from django.utils import formats
from django.utils.html import format_html

from accounts.models import User
from assignments.admin import AssignmentInline, gradebook_csv_download, gradebook_page
from bootcamps import services
from bootcamps.models import Bootcamp
from bootcamps.selectors import bootcamp_annotate_seats
from cohortly.admin import (
    PLAIN_DECIMALS,
    AutocompleteRefusesJunk,
    ChangedSinceShownMixin,
    CompactChangelist,
    DeleteBlockersExplained,
    ListsAtMost,
    SearchAtMostMaxTerms,
    ServiceErrorsMixin,
    badge,
    person_name,
)
from enrollments.models import Enrollment
from enrollments.selectors import enrollment_annotate_waitlist_position

#: The fields a bootcamp form passes to the services.
SERVICE_FIELDS = list(services.WRITABLE_FIELDS)


class EnrollmentInline(ListsAtMost, admin.TabularInline):
    """Who is enrolled, read-only: changes go through the enrollment list's
    actions so the seat rules and emails hold."""

    model = Enrollment
    fields = ["student", "status", "waitlist_position", "enrolled_at", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "Enrollments (changed in the enrollment list: see Seats and price)"
    see_all = "the seats and the waitlist first"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("student", "bootcamp")
        # The seats and the waitlist first: they are what a capped list must show.
        current = Case(
            When(status=Enrollment.Status.ACTIVE, then=0),
            When(status=Enrollment.Status.WAITLISTED, then=1),
            default=2,
        )
        return enrollment_annotate_waitlist_position(queryset).order_by(
            current, "status", "waitlist_seq", "enrolled_at"
        )

    @admin.display(description="Waitlist position")
    def waitlist_position(self, obj):
        if not obj.waitlist_position:
            return self.get_empty_value_display()
        # A deactivated student keeps the place but is passed over (enrollments.services).
        return (
            obj.waitlist_position
            if obj.student.is_active
            else f"{obj.waitlist_position} (passed over: deactivated)"
        )


def _staff_label(person, *, role) -> str:
    """A person in a staff field, saying so when their role is no longer the field's."""
    label = str(person)
    return label if person.role == role else f"{label} (now {person.get_role_display()})"


class BootcampAdminForm(forms.ModelForm):
    class Meta:
        model = Bootcamp
        fields = SERVICE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # limit_choices_to offers only people of the field's role; the bootcamp's
        # own staff are choices too, whatever their role now (an archived
        # bootcamp keeps whoever taught it). Left out, the page showed them
        # nowhere and any save took them off the bootcamp.
        for name, role in services.PEOPLE_FIELDS.items():
            field = self.fields.get(name)
            if field is None or not self.instance.pk:
                continue
            listed = getattr(self.instance, name).values("pk")
            field.queryset = (field.queryset | User.objects.filter(pk__in=listed)).distinct()
            field.label_from_instance = functools.partial(_staff_label, role=role)

    def clean_currency(self):
        # As the API takes it: "eur" is EUR.
        return self.cleaned_data["currency"].upper()

    def clean(self):
        cleaned = super().clean()
        capacity = cleaned.get("capacity")
        # Only a capacity changed on the page: one that moved meanwhile isn't this admin's.
        if self.instance.pk and capacity is not None and "capacity" in self.changed_data:
            try:
                services.bootcamp_check_capacity(bootcamp=self.instance, capacity=capacity)
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


@admin.register(Bootcamp)
class BootcampAdmin(
    SearchAtMostMaxTerms,
    AutocompleteRefusesJunk,
    DeleteBlockersExplained,
    ChangedSinceShownMixin,
    CompactChangelist,
    ServiceErrorsMixin,
    admin.ModelAdmin,
):
    hold_row_while_saving = True  # its service locks the row first
    # Enrollments, leads and assignments are the bootcamp's record (bootcamp_delete).
    delete_instead = (
        "Archive the bootcamp instead (set its status to Archived): it stays on record, "
        "and nobody can enroll."
    )
    form = BootcampAdminForm
    formfield_overrides = PLAIN_DECIMALS
    # Short columns (the dates in one, the seats in one, the price with its
    # currency), so that a row fits a laptop beside the filters.
    list_display = ["title", "status_badge", "dates", "delivery", "seats", "price_shown"]
    list_filter = ["status", "delivery_format", "start_date", "end_date"]
    search_fields = ["title", "description", "slug"]
    date_hierarchy = "start_date"
    ordering = ["-start_date", "id"]
    autocomplete_fields = ["instructors", "mentors"]  # limited to the right role by limit_choices_to
    readonly_fields = ["slug", "seats_taken", "seats_left", "enrollment_list", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "status", "description"]}),
        ("Dates and place", {"fields": ["start_date", "end_date", "delivery_format", "location"]}),
        (
            "Seats and price",
            {"fields": ["capacity", "seats_taken", "seats_left", "enrollment_list", "price", "currency"]},
        ),
        ("People", {"fields": ["instructors", "mentors"]}),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [EnrollmentInline, AssignmentInline]
    actions = ["publish_bootcamps", "archive_bootcamps"]

    def get_queryset(self, request):
        return bootcamp_annotate_seats(super().get_queryset(request))

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return self.fieldsets
        # Before the bootcamp exists there are no seats to count, no slug and
        # no record: the add form leaves out every read-only field.
        fieldsets = []
        for name, options in self.fieldsets:
            fields = [field for field in options["fields"] if field not in self.readonly_fields]
            if fields:
                fieldsets.append((name, {**options, "fields": fields}))
        return fieldsets

    @admin.display(description="Enrollments")
    def enrollment_list(self, obj):
        """Where its enrollments are changed: the list's actions, filtered to it."""
        url = reverse("admin:enrollments_enrollment_changelist") + f"?bootcamp__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">Open this bootcamp\'s enrollments</a> to enroll, cancel, complete or drop', url
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="Dates", ordering="start_date")
    def dates(self, obj):
        start, end = (formats.date_format(day, "SHORT_DATE_FORMAT") for day in (obj.start_date, obj.end_date))
        return format_html(
            '<span class="nowrap">{}</span><br><small class="quiet nowrap">to {}</small>', start, end
        )

    @admin.display(description="Format", ordering="delivery_format")
    def delivery(self, obj):
        return obj.get_delivery_format_display()

    @admin.display(description="Seats taken", ordering="seats_taken")
    def seats(self, obj):
        taken, capacity = getattr(obj, "seats_taken", 0), obj.capacity
        left = max(capacity - taken, 0)
        return format_html(
            '<span class="nowrap">{} / {}</span><br><small class="quiet nowrap">{}</small>',
            taken,
            capacity,
            f"{left} left" if left else "full",
        )

    @admin.display(description="Price", ordering="price")
    def price_shown(self, obj):
        price = formats.number_format(obj.price, 2, use_l10n=True, force_grouping=True)
        return format_html('<span class="nowrap">{} {}</span>', price, obj.currency)

    @admin.display(description="Seats taken", ordering="seats_taken")
    def seats_taken(self, obj):
        return getattr(obj, "seats_taken", 0)

    @admin.display(description="Seats left", ordering="seats_left")
    def seats_left(self, obj):
        return getattr(obj, "seats_left", obj.capacity or 0)

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in SERVICE_FIELDS if field in form.cleaned_data}
        if change:
            # Only what was changed on the page (ChangedSinceShownMixin): the rest may
            # have been changed by someone else since it was shown.
            data = {field: value for field, value in data.items() if field in form.changed_data}
            waiting = set(
                Enrollment.objects.filter(bootcamp=obj, status=Enrollment.Status.WAITLISTED).values_list(
                    "pk", flat=True
                )
            )
            saved = services.bootcamp_update(bootcamp=obj, actor=request.user, data=data)
            self._report_promoted(request, waiting)
            if data.get("status") == Bootcamp.Status.ARCHIVED:
                self._report_left_enrolled(request, [saved])
        else:
            saved = services.bootcamp_create(**data)
        obj.pk, obj.slug = saved.pk, saved.slug
        obj._state.adding = False
        obj._state.db = saved._state.db

    def _report_promoted(self, request, waiting: set) -> None:
        """Who the change seated (more seats, published again, a later end), as the
        enrollment actions report it: a message, and each enrollment's History."""
        promoted = list(
            Enrollment.objects.filter(pk__in=waiting, status=Enrollment.Status.ACTIVE)
            .select_related("student", "bootcamp")
            .order_by("enrolled_at", "pk")
        )
        for enrollment in promoted:
            self.log_change(
                request, enrollment, "Promoted from the waitlist (a change to its bootcamp freed a seat)."
            )
        if promoted:
            several = len({e.bootcamp_id for e in promoted}) > 1  # an action on several bootcamps
            names = ", ".join(
                f"{person_name(e.student)} ({e.bootcamp})" if several else person_name(e.student)
                for e in promoted
            )
            self.message_user(request, f"Promoted from the waitlist: {names}.", messages.INFO)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/gradebook/",
                self.admin_site.admin_view(self.gradebook_view),
                name="bootcamps_bootcamp_gradebook",
            ),
            *super().get_urls(),
        ]

    def gradebook_view(self, request, object_id):
        """The bootcamp's gradebook (?format=csv: its CSV), linked from its page."""
        bootcamp = self.get_object(request, unquote(object_id))
        if bootcamp is None:
            raise Http404("No such bootcamp.")
        if not self.has_view_permission(request, bootcamp):
            raise PermissionDenied
        if request.GET.get("format") == "csv":
            return gradebook_csv_download(bootcamp)
        return gradebook_page(request, self, bootcamp)

    def save_related(self, request, form, formsets, change):
        # Instructors and mentors were set by the service (form.save_m2m is not called).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.bootcamp_delete(bootcamp=obj)

    def delete_queryset(self, request, queryset):
        for bootcamp in queryset:
            services.bootcamp_delete(bootcamp=bootcamp)

    def _set_status(self, request, queryset, status):
        bootcamps = list(queryset)
        # Publishing again opens seats to the waitlist: said as a form's save says it.
        waiting = set(
            Enrollment.objects.filter(
                bootcamp__in=[bootcamp.pk for bootcamp in bootcamps], status=Enrollment.Status.WAITLISTED
            ).values_list("pk", flat=True)
        )
        label = Bootcamp.Status(status).label
        changing = [bootcamp for bootcamp in bootcamps if bootcamp.status != status]
        self.apply_each(
            request,
            bootcamps,
            lambda obj: services.bootcamp_update(bootcamp=obj, actor=request.user, data={"status": status}),
            done=lambda count: f"{count} {'bootcamp' if count == 1 else 'bootcamps'} set to {label.lower()}.",
            log=f"Status set to {label} (action).",
            already=lambda bootcamp: bootcamp.status == status,
            already_said=label.lower(),
        )
        self._report_promoted(request, waiting)
        if status == Bootcamp.Status.ARCHIVED:
            self._report_left_enrolled(request, changing)

    def _report_left_enrolled(self, request, bootcamps) -> None:
        """Archiving changes no enrollment and tells nobody: say who is still in
        the archived bootcamps, so that someone completes, drops or tells them."""
        held = (
            Enrollment.objects.filter(
                bootcamp__in=[bootcamp.pk for bootcamp in bootcamps],
                bootcamp__status=Bootcamp.Status.ARCHIVED,
                status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.WAITLISTED],
            )
            .values_list("bootcamp__title", "status")
            .annotate(count=Count("pk"))
            .order_by("bootcamp__title")
        )
        counts: dict[str, dict[str, int]] = {}
        for title, status, count in held:
            counts.setdefault(title, {})[status] = count
        for title, by_status in counts.items():
            parts = [
                f"{by_status[status]} {label}"
                for status, label in (
                    (Enrollment.Status.ACTIVE, "active"),
                    (Enrollment.Status.WAITLISTED, "waitlisted"),
                )
                if by_status.get(status)
            ]
            noun = "enrollments" if sum(by_status.values()) > 1 else "enrollment"
            self.message_user(
                request,
                f"{title} still has {' and '.join(parts)} {noun}: archiving changed none of them and told "
                "no one (complete or drop the active ones, cancel the waitlisted, from the enrollment list).",
                messages.WARNING,
            )

    @admin.action(description="Publish selected bootcamps (promotes their waitlists)")
    def publish_bootcamps(self, request, queryset):
        asked = self.confirmed(
            request,
            queryset.order_by("start_date", "title"),
            title="Publish bootcamps",
            consequences=[
                "Each selected bootcamp that can be published becomes PUBLISHED: students can see it "
                "and enroll.",
                "Seats that freed while it was unpublished go at once to the first students on its waitlist, "
                "who are emailed.",
            ],
            submit="Publish them",
            describe=lambda b: (
                f"{b.title} ({b.get_status_display()}, {b.start_date:%-d %b %Y} to {b.end_date:%-d %b %Y})"
            ),
        )
        if asked is not None:
            return asked
        self._set_status(request, queryset, Bootcamp.Status.PUBLISHED)
        return None

    @admin.action(description="Archive selected bootcamps")
    def archive_bootcamps(self, request, queryset):
        asked = self.confirmed(
            request,
            queryset.order_by("start_date", "title"),
            title="Archive bootcamps",
            consequences=[
                "Each selected bootcamp becomes ARCHIVED: it leaves the catalogue, nobody can enroll, and "
                "its students can no longer hand work in, even one that is running now.",
                "Its enrollments stay as they are and nobody is told: the message afterwards says who is "
                "still enrolled, to complete or drop them.",
            ],
            submit="Archive them",
            undo="Publishing a bootcamp again undoes it, once its staff still hold their roles.",
            describe=lambda b: (
                f"{b.title} ({b.get_status_display()}, {b.start_date:%-d %b %Y} to {b.end_date:%-d %b %Y})"
            ),
        )
        if asked is not None:
            return asked
        self._set_status(request, queryset, Bootcamp.Status.ARCHIVED)
        return None
