"""The sales pipeline API: /api/v1/leads/.

Thin views: serializers parse, leads.services write, leads.selectors scope,
leads.filtersets.LeadFilterSet filters (the only filter backend, so the API,
its CSV export and the sales pages read the same parameters the same way).
"""

from django.core.exceptions import SuspiciousOperation
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts.permissions import PUBLIC, SALES_TEAM, RolePermission, has_role
from cohortly.caching import CachedReadsMixin
from cohortly.filters import FiltersListsOnly
from cohortly.throttling import LeadCaptureRateThrottle
from leads import selectors, services
from leads.api.serializers import (
    LeadActivitySerializer,
    LeadCaptureSerializer,
    LeadConvertSerializer,
    LeadNoteSerializer,
    LeadReceiptSerializer,
    LeadSerializer,
    LeadUpdateSerializer,
)
from leads.exports import lead_csv_response
from leads.filtersets import LeadFilterSet

CSV_FORMAT = "csv"
HONEYPOT_FIELD = "website"
#: The public form's one answer (LeadReceiptSerializer): new lead, merged or honeypot alike.
LEAD_RECEIPT = {"detail": "Thank you: we'll be in touch soon."}

# Either the receipt (public callers) or the lead (SALES and ADMIN).
CAPTURE_RESULT = PolymorphicProxySerializer(
    component_name="LeadCaptureResult",
    serializers=[LeadReceiptSerializer, LeadSerializer],
    resource_type_field_name=None,
)

_csv_response = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The leads as CSV.")}


@extend_schema_view(
    list=extend_schema(
        summary="List leads (SALES, ADMIN)",
        description=(
            "The same leads as CSV: `GET /leads/export.csv` with the same parameters "
            "(`?format=csv` here does the same; it is documented there, so a generated client "
            "types this list as JSON only)."
        ),
        responses={200: LeadSerializer(many=True)},
    ),
    retrieve=extend_schema(summary="A lead (SALES, ADMIN)"),
)
@extend_schema(tags=["leads"])
class LeadViewSet(
    FiltersListsOnly,
    CachedReadsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Leads: public capture; the pipeline for SALES and ADMIN. Never deleted."""

    permission_classes = [RolePermission]
    read_roles = write_roles = SALES_TEAM
    action_roles = {"create": PUBLIC}
    conflict_actions = ("create", "partial_update", "convert")
    serializer_class = LeadSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = LeadFilterSet
    lookup_value_regex = r"[0-9]+"
    scope = selectors.lead_scope
    http_method_names = ["get", "post", "patch", "head", "options"]
    # Filters apply to lists and their export, never to one lead by id.
    filtered_actions = frozenset({"list", "export"})

    def get_serializer_class(self):
        return {
            "create": LeadCaptureSerializer,
            "partial_update": LeadUpdateSerializer,
            "notes": LeadNoteSerializer,
            "convert": LeadConvertSerializer,
            "activities": LeadActivitySerializer,
        }.get(self.action, LeadSerializer)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            # The schema describes the form for every caller, whoever fetches it:
            # without a request, LeadCaptureSerializer keeps the staff-only
            # fields (their help text says so) instead of dropping them.
            context["request"] = None
        return context

    def get_throttles(self):
        # The public form is limited per IP; the sales team entering leads by
        # hand gets the ordinary per-user limit.
        if self.action == "create" and not has_role(self.request.user, SALES_TEAM):
            return [LeadCaptureRateThrottle()]
        return super().get_throttles()

    def perform_content_negotiation(self, request, force=False):
        # `?format=csv` picks the CSV export in list(), and export.csv is always
        # CSV, whatever the Accept header asks for (`text/csv` included: no
        # renderer of this view serves it, the export builds its own response).
        # Every other response, errors included, stays JSON; elsewhere `csv` is
        # an unknown format, a 404 as DRF answers any other.
        try:
            csv_format = request.query_params.get(api_settings.URL_FORMAT_OVERRIDE) == CSV_FORMAT
        except SuspiciousOperation:
            # A query string Django won't read (too many parameters): the 400
            # it became is rendered as JSON. Read again here, it escaped the
            # exception handler (logged as an error; a 500 under DEBUG).
            if not force:
                raise
            csv_format = False
        if self.action == "export" or (csv_format and self.action == "list"):
            renderer = self.get_renderers()[0]
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    def _csv(self):
        queryset = self.filter_queryset(self.get_queryset())
        return lead_csv_response(queryset, filename=f"leads-{timezone.localdate():%Y-%m-%d}.csv")

    def list(self, request, *args, **kwargs):
        if request.query_params.get(api_settings.URL_FORMAT_OVERRIDE) == CSV_FORMAT:
            return self._csv()
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Capture a lead (public form)",
        description=(
            "Open to anonymous callers and throttled per IP. When an open lead with this email "
            "exists, the submission joins its timeline instead of creating a duplicate. "
            'Public callers get the same `{"detail": …}` (201) whether the lead was new or merged, '
            "and when a filled-in honeypot `website` field stored nothing: nothing to learn about "
            "other people's leads. SALES and ADMIN get the lead: 201 when created, 200 when merged "
            "into an open one; a `website` from them is a 400 (they aren't bots, and nothing would "
            "store it)."
        ),
        responses={
            201: OpenApiResponse(
                CAPTURE_RESULT, "Public callers: the same receipt every time. SALES and ADMIN: the new lead."
            ),
            200: OpenApiResponse(LeadSerializer, "SALES and ADMIN: merged into an existing open lead."),
        },
    )
    def create(self, request, *args, **kwargs):
        staff = has_role(request.user, SALES_TEAM)
        honeypot = isinstance(request.data, dict) and request.data.get(HONEYPOT_FIELD) not in (None, "")
        if honeypot and not staff:  # a bot: the public receipt, nothing stored (staff: a 400 on it)
            return Response(LEAD_RECEIPT, status=status.HTTP_201_CREATED)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop(HONEYPOT_FIELD, None)
        data.pop("status", None)  # only NEW is accepted, and that is where leads start
        lead, created = services.lead_capture(**data, actor=request.user if staff else None)
        if not staff:
            return Response(LEAD_RECEIPT, status=status.HTTP_201_CREATED)
        return Response(
            LeadSerializer(lead).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        summary="Update a lead: status, owner, follow-up, contact details",
        request=LeadUpdateSerializer,
        responses={200: LeadSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        lead = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_update(lead=lead, actor=request.user, data=serializer.validated_data)
        return Response(LeadSerializer(lead).data)

    @extend_schema(summary="Add a note", request=LeadNoteSerializer, responses={201: LeadActivitySerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        lead = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.lead_add_note(lead=lead, actor=request.user, body=serializer.validated_data["body"])
        return Response(LeadActivitySerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The lead's timeline, newest first",
        responses={200: LeadActivitySerializer(many=True)},
        filters=False,  # paginated, but the list's filters don't apply (filter_queryset)
    )
    @action(detail=True, methods=["get"])
    def activities(self, request, pk=None):
        lead = self.get_object()
        page = self.paginate_queryset(selectors.lead_activity_list(lead=lead))
        return self.get_paginated_response(LeadActivitySerializer(page, many=True).data)

    @extend_schema(
        summary="Convert a lead into an enrolled student",
        description=(
            "Creates (or reuses, by email) the STUDENT user, enrolls them (ACTIVE, or WAITLISTED when "
            "the bootcamp is full), marks the lead CONVERTED and emails a set-password link to a new "
            "student. 409 when the lead is already converted or lost."
        ),
        request=LeadConvertSerializer,
        responses={200: LeadSerializer},
    )
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        lead = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_convert(
            lead=lead, actor=request.user, bootcamp=serializer.validated_data["bootcamp"]
        )
        return Response(LeadSerializer(lead).data)

    @extend_schema(
        summary="Export the filtered leads as CSV (SALES, ADMIN)",
        operation_id="leads_export_csv",
        description="The list's filters, search and ordering apply; every matching lead, unpaginated.",
        filters=True,
        responses=_csv_response,
    )
    @action(detail=False, methods=["get"], url_path=r"export\.csv", url_name="export")
    def export(self, request):
        return self._csv()
