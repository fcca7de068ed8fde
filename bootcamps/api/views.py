from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from accounts.permissions import RolePermission
from bootcamps import selectors, services
from bootcamps.api.serializers import BootcampSerializer, BootcampWriteSerializer
from bootcamps.filtersets import BootcampFilterSet
from bootcamps.permissions import BOOTCAMP_EDITORS, BOOTCAMP_READERS, BOOTCAMP_WRITERS, IsBootcampEditor
from cohortly.caching import CachedReadsMixin
from cohortly.filters import FiltersListsOnly, SearchFilter


@extend_schema(tags=["bootcamps"])
@extend_schema_view(
    list=extend_schema(summary="List bootcamps"),
    create=extend_schema(summary="Create a bootcamp"),
    retrieve=extend_schema(summary="Read a bootcamp"),
    partial_update=extend_schema(summary="Update a bootcamp"),
    destroy=extend_schema(summary="Delete a bootcamp"),
)
class BootcampViewSet(
    FiltersListsOnly,
    CachedReadsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Bootcamps. Anyone (anonymous too) lists and reads the PUBLISHED ones;
    staff roles see all. ADMIN creates, edits and deletes. An INSTRUCTOR may
    PATCH description, start_date, end_date and location of a bootcamp they
    teach: on another bootcamp, or changing any other field, they get 403 (they
    can see every bootcamp as staff, so a 403 reveals nothing). A bootcamp with
    enrollments cannot be deleted (409): archive it instead."""

    permission_classes = [RolePermission, IsBootcampEditor]
    read_roles = BOOTCAMP_READERS
    write_roles = BOOTCAMP_WRITERS
    action_roles = {"partial_update": BOOTCAMP_EDITORS}
    conflict_actions = ("destroy",)
    filter_backends = [DjangoFilterBackend, SearchFilter]
    filterset_class = BootcampFilterSet
    search_fields = ["title", "description"]
    lookup_value_regex = r"[0-9]+"
    scope = selectors.bootcamp_list_for
    details_from_list = True
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return BootcampWriteSerializer
        return BootcampSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action in ("partial_update", "destroy"):
            # The service reads the row again under its lock: finding the
            # bootcamp (or a 404) needs none of its people.
            return queryset.prefetch_related(None)
        return queryset

    def _present(self, bootcamp, status_code=status.HTTP_200_OK):
        fresh = self.scoped().queryset.get(pk=bootcamp.pk)
        return Response(BootcampSerializer(fresh).data, status=status_code)

    @extend_schema(request=BootcampWriteSerializer, responses={201: BootcampSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bootcamp = services.bootcamp_create(**serializer.validated_data)
        return self._present(bootcamp, status.HTTP_201_CREATED)

    @extend_schema(request=BootcampWriteSerializer, responses={200: BootcampSerializer})
    def partial_update(self, request, *args, **kwargs):
        bootcamp = self.get_object()
        serializer = self.get_serializer(bootcamp, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        bootcamp = services.bootcamp_update(
            bootcamp=bootcamp, actor=request.user, data=serializer.validated_data
        )
        return self._present(bootcamp)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        services.bootcamp_delete(bootcamp=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
