"""Leads in the back office. Every write goes through leads.services, so the
admin records the same timeline and keeps the same rules as the API and the
sales pages. Leads and their activities are never deleted."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import Truncator

from accounts.models import User, normalize_email
from cohortly.admin import (
    ChangedSinceShownMixin,
    CompactChangelist,
    ListsAtMost,
    SearchAtMostMaxTerms,
    ServiceErrorsMixin,
    badge,
    person_name,
    short_date,
    short_moment,
)
from cohortly.filters import at_most_max_search_terms
from leads import services
from leads.exports import lead_csv_response
from leads.filtersets import LeadFilterSet, owner_label
from leads.models import Lead, LeadActivity
from leads.selectors import lead_owner_choices
from mail.admin import EmailDeliverabilityAdminMixin


class LeadAdminForm(forms.ModelForm):
    class Meta:
        model = Lead
        # The admin narrows these per page (get_fields); this is their union.
        fields = [
            "full_name",
            "email",
            "phone",
            "source",
            "bootcamp",
            "owner",
            "next_follow_up_at",
            "message",
            "utm_source",
            "utm_medium",
            "utm_campaign",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            # Its current owner too, whoever they are now: a lead whose rep was
            # deactivated showed no owner, and saving any other change unassigned it.
            field = self.fields["owner"]
            field.queryset = lead_owner_choices(keeping=self.instance if self.instance.pk else None)
            field.label_from_instance = owner_label

    def clean_email(self):
        # As the services store it: the model's validation of this form checks
        # lead_email_lower_case too, which a typed "Walk.In@example.org" failed.
        email = self.cleaned_data.get("email")
        return normalize_email(email) if email else email

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email")
        status = self.instance.status if self.instance.pk else Lead.Status.NEW
        if email and status in Lead.OPEN_STATUSES:
            # A friendly early message; the database constraint is what holds.
            # As lead_capture stores it: zoe@exämple.com is zoe@xn--exmple-cua.com.
            others = Lead.objects.filter(email__iexact=normalize_email(email), status__in=Lead.OPEN_STATUSES)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            other = others.first()
            if other is not None:
                self.add_error(
                    "email",
                    f"Another open lead (#{other.pk}) already has this email"
                    + (
                        "."
                        if self.instance.pk
                        else ": nothing was added. Add what you know to that lead instead "
                        "(the sales pages' New lead puts it on its timeline)."
                    ),
                )
        return cleaned


class AssignOwnerForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="— nobody (unassign) —",
        help_text="An active sales or admin user.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = lead_owner_choices()


class MarkLostForm(forms.Form):
    lost_reason = forms.CharField(
        label="Why were they lost?", widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )


class LeadActivityInline(ListsAtMost, admin.TabularInline):
    model = LeadActivity
    verbose_name = "timeline entry"
    verbose_name_plural = "timeline"
    fields = ["created_at", "kind", "actor", "body", "data"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    see_all = "the newest first; every one is under Lead activities"
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "lead")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(
    ChangedSinceShownMixin,
    CompactChangelist,
    EmailDeliverabilityAdminMixin,
    ServiceErrorsMixin,
    admin.ModelAdmin,
):
    hold_row_while_saving = True  # its service locks the row first
    form = LeadAdminForm
    # Short columns, what a rep acts on first, so that a row fits a laptop
    # beside the filters; email, phone and source are searched or filtered,
    # and on the lead's page (with whether the address is deliverable).
    list_display = ["full_name", "status_badge", "owner_name", "follow_up", "created", "bootcamp_title"]
    list_display_links = ["full_name"]
    list_filter = [
        "status",
        "source",
        ("owner", admin.RelatedOnlyFieldListFilter),
        ("bootcamp", admin.RelatedOnlyFieldListFilter),
        "created_at",
        "next_follow_up_at",
    ]
    search_fields = ["full_name", "email", "phone"]  # searched as the API and the sales pages search
    list_select_related = ["owner", "bootcamp"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    inlines = [LeadActivityInline]
    actions = ["assign_owner", "mark_contacted", "mark_lost", "export_csv"]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        try:
            at_most_max_search_terms(search_term)  # the filterset's own limit on its search
        except ValidationError as exc:
            self.message_user(request, exc.messages[0], messages.ERROR)
            return queryset.none(), False
        # The leads filterset's search, shared with the API and /sales/: name, email
        # or phone, a phone number however it is spaced.
        return LeadFilterSet(request=request, queryset=queryset).filter_search(
            queryset, "search", search_term
        ), False

    ADD_FIELDS = [
        "full_name",
        "email",
        "phone",
        "source",
        "bootcamp",
        "owner",
        "message",
        "utm_source",
        "utm_medium",
        "utm_campaign",
    ]
    CHANGE_FIELDS = ["full_name", "email", "phone", "source", "bootcamp", "owner", "next_follow_up_at"]
    READONLY_ON_CHANGE = [
        "email_delivery",
        "status",
        "lost_reason",
        "message",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "converted_student",
        "converted_enrollment",
        "converted_at",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="Owner", ordering="owner__full_name")
    def owner_name(self, obj):
        return person_name(obj.owner)

    @admin.display(description="Follow up", ordering="next_follow_up_at")
    def follow_up(self, obj):
        return short_date(obj.next_follow_up_at)

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj):
        return short_date(obj.created_at)

    # Not the foreign key itself, which the admin keeps on one line: a long title wraps.
    @admin.display(description="Bootcamp", ordering="bootcamp__title")
    def bootcamp_title(self, obj):
        return obj.bootcamp.title if obj.bootcamp else None

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.ADD_FIELDS
        return [*self.CHANGE_FIELDS, *self.READONLY_ON_CHANGE]

    def get_readonly_fields(self, request, obj=None):
        # Status and the reason change through the actions (transition rules).
        return self.READONLY_ON_CHANGE if obj else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            data = {
                field: form.cleaned_data[field] for field in form.changed_data if field in self.CHANGE_FIELDS
            }
            if data:
                services.lead_update(lead=obj, actor=request.user, data=data)
            return
        data = form.cleaned_data
        lead, _created = services.lead_capture(
            full_name=data["full_name"],
            email=data["email"],
            phone=data.get("phone", ""),
            source=data.get("source") or Lead.Source.OTHER,
            utm_source=data.get("utm_source", ""),
            utm_medium=data.get("utm_medium", ""),
            utm_campaign=data.get("utm_campaign", ""),
            message=data.get("message", ""),
            bootcamp=data.get("bootcamp"),
            owner=data.get("owner"),
            actor=request.user,
        )
        obj.pk = lead.pk
        obj._state.adding = False
        obj._state.db = lead._state.db

    # --- actions -------------------------------------------------------------

    def _apply(self, request, queryset, operation, verb: str, *, already=None) -> None:
        """`operation` on each selected lead; `already(lead)`: it would change nothing."""
        self.apply_each(
            request,
            queryset,
            operation,
            done=lambda count: f"{count} lead(s) {verb}.",
            log=f"{verb[:1].upper()}{verb[1:]} (action).",
            already=already,
            already_said=verb,
        )

    def _intermediate(self, request, queryset, form_class, *, title: str, submit: str, apply):
        """An action with a form: shown first (with the selected leads,
        action_page), applied when submitted valid and the selection is the
        one shown."""
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid() and not self.selection_changed(request, queryset):
                apply(form.cleaned_data)
                return None  # back to the change list
        else:
            form = form_class()
        return self.action_page(
            request,
            queryset.order_by("-created_at", "-id"),
            "admin/leads/lead/action_form.html",
            describe=lambda lead: f"{lead.full_name} <{lead.email}> — {lead.get_status_display()}",
            title=title,
            submit=submit,
            form=form,
            media=self.media + form.media,
        )

    @admin.action(description="Assign an owner to the selected leads")
    def assign_owner(self, request, queryset):
        return self._intermediate(
            request,
            queryset,
            AssignOwnerForm,
            title="Assign an owner",
            submit="Assign",
            apply=lambda data: self._apply(
                request,
                queryset,
                lambda lead: services.lead_assign(lead=lead, actor=request.user, owner=data["owner"]),
                f"assigned to {data['owner'].full_name or data['owner'].email}"
                if data["owner"]
                else "unassigned",
                already=lambda lead: lead.owner_id == (data["owner"].pk if data["owner"] else None),
            ),
        )

    @admin.action(description="Mark the selected leads as contacted")
    def mark_contacted(self, request, queryset):
        asked = self.confirmed(
            request,
            queryset.order_by("-created_at", "-id"),
            title="Mark as contacted",
            consequences=[
                "Each selected open lead becomes CONTACTED, on its timeline too; a lead never goes back "
                "to NEW.",
            ],
            submit="Mark them contacted",
            describe=lambda lead: f"{lead.full_name} <{lead.email}> — {lead.get_status_display()}",
        )
        if asked is not None:
            return asked

        def contact(lead):
            if lead.status == Lead.Status.LOST:
                # LOST -> CONTACTED reopens a lead and clears its reason: a decision
                # about that lead, not something a bulk action over open ones does.
                raise ValidationError(
                    "it is lost; reopen it from its page in the sales workspace if it should be.",
                    code="lost",
                )
            services.lead_set_status(lead=lead, actor=request.user, status=Lead.Status.CONTACTED)

        self._apply(
            request,
            queryset,
            contact,
            "marked as contacted",
            already=lambda lead: lead.status == Lead.Status.CONTACTED,
        )
        return None

    @admin.action(description="Mark the selected leads as lost (asks for a reason)")
    def mark_lost(self, request, queryset):
        return self._intermediate(
            request,
            queryset,
            MarkLostForm,
            title="Mark as lost",
            submit="Mark as lost",
            apply=lambda data: self._apply(
                request,
                queryset,
                lambda lead: services.lead_set_status(
                    lead=lead, actor=request.user, status=Lead.Status.LOST, lost_reason=data["lost_reason"]
                ),
                "marked as lost",
                # For another reason it changes the reason (on the timeline too): counted.
                already=lambda lead: (
                    lead.status == Lead.Status.LOST and lead.lost_reason == data["lost_reason"]
                ),
            ),
        )

    @admin.action(description="Export the selected leads as CSV")
    def export_csv(self, request, queryset):
        return lead_csv_response(
            queryset.order_by("-created_at", "-id"),
            filename=f"leads-{timezone.localdate():%Y-%m-%d}.csv",
            for_spreadsheets=True,
        )


@admin.register(LeadActivity)
class LeadActivityAdmin(SearchAtMostMaxTerms, admin.ModelAdmin):
    """The timelines, read-only: entries are written by the services."""

    # Short columns, so that a row fits a laptop beside the filters.
    list_display = ["when", "lead_name", "kind", "actor_name", "body_start"]
    list_display_links = ["when"]
    list_filter = ["kind", "created_at"]
    search_fields = ["lead__full_name", "lead__email", "body"]
    list_select_related = ["lead", "actor"]
    date_hierarchy = "created_at"

    @admin.display(description="When", ordering="created_at")
    def when(self, obj):
        return short_moment(obj.created_at)

    @admin.display(description="Lead", ordering="lead__full_name")
    def lead_name(self, obj):
        return obj.lead.full_name

    @admin.display(description="By", ordering="actor__full_name")
    def actor_name(self, obj):
        return person_name(obj.actor) or self.get_empty_value_display()

    @admin.display(description="Text")
    def body_start(self, obj):
        return Truncator(obj.body).chars(80)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
