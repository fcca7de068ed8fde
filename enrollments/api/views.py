from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, PermissionDenied
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import RolePermission
from cohortly.caching import CachedReadsMixin
from cohortly.filters import FiltersListsOnly, SearchFilter
from cohortly.models import as_uuid
from enrollments import selectors, services
from enrollments.api.serializers import (
    EnrollmentCreateSerializer,
    EnrollmentSerializer,
    EnrollmentTransitionSerializer,
)
from enrollments.filtersets import EnrollmentFilterSet
from enrollments.permissions import CANCELLERS, ENROLLERS, ENROLLMENT_READERS, STATUS_SETTERS


@extend_schema(tags=["enrollments"])
@extend_schema_view(
    list=extend_schema(summary="List enrollments"),
    create=extend_schema(summary="Enroll a student"),
    retrieve=extend_schema(summary="Read an enrollment"),
    cancel=extend_schema(summary="Cancel an enrollment"),
    set_status=extend_schema(summary="Mark an enrollment completed or dropped"),
)
class EnrollmentViewSet(
    FiltersListsOnly,
    CachedReadsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Enrollments. A STUDENT sees and cancels their own; INSTRUCTOR and MENTOR
    see those of the bootcamps they teach or mentor; ADMIN and SALES see all.
    Anything outside that scope is a 404. POST enrolls: ACTIVE while seats are
    free, else WAITLISTED in arrival order."""

    permission_classes = [RolePermission]
    read_roles = ENROLLMENT_READERS
    write_roles = ENROLLERS
    action_roles = {"cancel": CANCELLERS, "set_status": STATUS_SETTERS}
    conflict_actions = ("create", "cancel", "set_status")
    serializer_class = EnrollmentSerializer
    filter_backends = [DjangoFilterBackend, SearchFilter]
    filterset_class = EnrollmentFilterSet
    search_fields = ["student__full_name", "student__email", "bootcamp__title"]
    lookup_value_regex = r"[0-9]+"
    scope = selectors.enrollment_scope
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_class(self):
        if self.action == "create":
            return EnrollmentCreateSerializer
        if self.action == "set_status":
            return EnrollmentTransitionSerializer
        return EnrollmentSerializer

    def _present(self, enrollment, status_code=status.HTTP_200_OK):
        fresh = selectors.enrollment_get_for(self.request.user, enrollment.pk)
        return Response(EnrollmentSerializer(fresh).data, status=status_code)

    @extend_schema(request=EnrollmentCreateSerializer, responses={201: EnrollmentSerializer})
    def create(self, request, *args, **kwargs):
        actor = request.user
        is_student = actor.role == User.Role.STUDENT
        named = request.data.get("student") if isinstance(request.data, dict) else None
        if is_student and named is not None and as_uuid(named) != actor.pk:
            # enrollment_create holds this rule; it is also checked here, before
            # validation, so that an unknown id can't be told from another student's.
            raise PermissionDenied("Students can only enroll themselves.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        student = actor if is_student else serializer.validated_data.get("student")
        if student is None:
            raise serializers.ValidationError(
                {"student": [ErrorDetail("Give the id of the student to enroll.", code="required_for_staff")]}
            )
        enrollment = services.enrollment_create(
            student=student, bootcamp=serializer.validated_data["bootcamp"], actor=actor
        )
        return self._present(enrollment, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: EnrollmentSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an ACTIVE or WAITLISTED enrollment; a freed seat goes to the
        first student on the waitlist at once."""
        enrollment = services.enrollment_cancel(enrollment=self.get_object())
        return self._present(enrollment)

    @extend_schema(request=EnrollmentTransitionSerializer, responses={200: EnrollmentSerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        """ACTIVE -> COMPLETED or DROPPED (ADMIN, or an INSTRUCTOR of the
        bootcamp). Dropping frees the seat for the waitlist."""
        enrollment = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enrollment = services.enrollment_set_status(
            enrollment=enrollment, status=serializer.validated_data["status"]
        )
        return self._present(enrollment)
