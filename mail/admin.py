from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.text import Truncator

from cohortly.admin import (
    CompactChangelist,
    HiddenFieldsNotFilterable,
    SearchAtMostMaxTerms,
    ServiceErrorsMixin,
    badge,
    breakable_email,
    short_moment,
)
from mail import services
from mail.models import DeliveryEvent, OutboundEmail, SuppressedAddress
from mail.selectors import is_suppressed, normalize, suppression_for


class ReadOnlyAdminMixin:
    """The outbox is a record: written by the send task and the webhook, never by hand
    (its pages are read-only; the actions go through the services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The list's actions need the change permission; one row's page is for
        # reading only: no Save button that claims a change and writes the row back.
        return obj is None and super().has_change_permission(request, obj)


class EmailDeliverabilityAdminMixin:
    """For the admin of a model with an `email`: an "Email" column that marks an
    undeliverable address (one subquery in the list's query) and an "Email
    delivery" line on the change page."""

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(email_suppressed=is_suppressed("email"))

    @admin.display(description="Email", ordering="email")
    def email_with_delivery(self, obj):
        shown = breakable_email(obj.email)
        if obj.email_suppressed:
            return format_html("{} {}", shown, badge("bounced", "Undeliverable"))
        return shown

    @admin.display(description="Email delivery")
    def email_delivery(self, obj):
        suppression = suppression_for(obj.email)
        if suppression is None:
            return "Deliverable."
        return (
            f"Undeliverable since {suppression.created_at:%Y-%m-%d %H:%M}: "
            f"{suppression.get_reason_display()} "
            f"({suppression.detail}). Cohortly sends it nothing but a password reset they ask for."
        )


class DeliveryEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    def has_change_permission(self, request, obj=None):
        return False

    model = DeliveryEvent
    fields = ["occurred_at", "provider_event", "event_type", "recipient", "detail"]
    readonly_fields = fields
    extra = 0


def _remove_suppressions(modeladmin, request, addresses):
    """Lift each address's suppression; say how many were lifted, and how many
    weren't suppressed in the first place."""
    addresses = sorted(set(addresses))
    if not addresses:
        modeladmin.message_user(
            request, "None of the selected rows is here any more: nothing was done.", messages.WARNING
        )
        return
    # Who lifted a suppression, and when, goes into the History of each row lifted.
    lifted = SuppressedAddress.objects.filter(address__in={normalize(address) for address in addresses})
    modeladmin.log_deletions(request, lifted.order_by("address"))
    removed = sum(1 for address in addresses if services.suppression_remove(address=address))
    if removed:
        modeladmin.message_user(
            request, f"{removed} address(es) removed from the suppression list: they may be mailed again."
        )
    if len(addresses) > removed:
        modeladmin.message_user(
            request,
            f"{len(addresses) - removed} address(es) weren't on the suppression list: nothing to remove.",
            messages.INFO,
        )


@admin.register(OutboundEmail)
class OutboundEmailAdmin(
    SearchAtMostMaxTerms,
    HiddenFieldsNotFilterable,
    CompactChangelist,
    ServiceErrorsMixin,
    ReadOnlyAdminMixin,
    admin.ModelAdmin,
):
    unfilterable = ("body",)  # the links it sent: its page leaves the body out
    # What a row needs on a laptop beside the filters; the request id is searched,
    # and on the email's page with the rest.
    list_display = ["queued", "recipient", "template", "status_shown", "error"]
    list_display_links = ["queued"]
    list_filter = ["status", "template"]
    search_fields = ["to", "request_id", "provider_message_id", "subject"]
    date_hierarchy = "created_at"
    fields = [
        "to",
        "template",
        "subject",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "request_id",
        "provider_message_id",
        "ignore_suppression",
        "sent_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [DeliveryEventInline]
    actions = ["retry_now", "remove_from_suppression"]

    @admin.display(description="Queued", ordering="created_at")
    def queued(self, obj):
        return short_moment(obj.created_at)

    @admin.display(description="To", ordering="to")
    def recipient(self, obj):
        return breakable_email(obj.to)

    @admin.display(description="Status", ordering="status")
    def status_shown(self, obj):
        tries = f"{obj.attempts} attempts" if obj.attempts > 1 else ""
        return badge(obj.status, obj.get_status_display(), tries)

    @admin.display(description="Last error")
    def error(self, obj):
        return Truncator(obj.last_error).chars(60) or self.get_empty_value_display()

    @admin.action(description="Retry now (failed sends, or stuck over 10 minutes)")
    def retry_now(self, request, queryset):
        minutes = int(services.STUCK_AFTER.total_seconds() // 60)
        asked = self.confirmed(
            request,
            queryset.order_by("created_at", "pk"),
            title="Send emails again",
            consequences=[
                "Each selected email that failed is sent again now, whatever its attempts so far.",
                f"One still queued after over {minutes} minutes is sent again too: its attempt may have "
                "reached the recipient before it stopped, and they then get it twice.",
                "The others (sent, delivered, bounced, or queued recently) are left as they are.",
            ],
            submit="Send them again",
            describe=lambda email: (
                f"{email.template} to {email.to}, queued {short_moment(email.created_at)}: "
                f"{email.get_status_display()}, {email.attempts} attempt(s)"
            ),
        )
        if asked is None:
            self.apply_each(
                request,
                queryset,
                lambda email: services.outbox_retry(email=email),
                done=lambda n: f"{n} email(s) queued again.",
                log="Queued again (action).",
            )
        return asked

    @admin.action(description="Remove the recipients from the suppression list")
    def remove_from_suppression(self, request, queryset):
        _remove_suppressions(self, request, queryset.values_list("to", flat=True))


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(SearchAtMostMaxTerms, ServiceErrorsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["address", "reason", "detail", "created_at"]
    list_filter = ["reason"]
    search_fields = ["address"]
    fields = ["address", "reason", "detail", "created_at"]
    readonly_fields = fields
    actions = ["remove_from_suppression"]

    @admin.action(description="Remove from suppression")
    def remove_from_suppression(self, request, queryset):
        _remove_suppressions(self, request, queryset.values_list("address", flat=True))
