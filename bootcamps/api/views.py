from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from accounts.permissions import RolePermission
from bootcamps import selectors, services
from bootcamps.api.presenters import bootcamp_json, bootcamps_json
from bootcamps.api.serializers import BootcampSerializer, BootcampWriteSerializer
from bootcamps.caching import cached_response
from bootcamps.filtersets import BootcampFilterSet, StableOrderingFilter
from bootcamps.models import Bootcamp
from bootcamps.permissions import (
    BOOTCAMP_EDITORS,
    BOOTCAMP_READERS,
    BOOTCAMP_WRITERS,
    IsBootcampEditor,
    can_see_all_bootcamps,
)
from cohortly.counting import cached_count_pagination
from cohortly.filters import FilterBackend, SearchFilter


@extend_schema(tags=["bootcamps"])
class BootcampViewSet(
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
    filter_backends = [FilterBackend, SearchFilter, StableOrderingFilter]
    filterset_class = BootcampFilterSet
    search_fields = ["title", "description"]
    ordering_fields = ["start_date", "end_date", "title", "price", "created_at"]
    ordering = ["start_date", "id"]
    lookup_value_regex = r"[0-9]+"
    # Counted over bootcamps and their people (cohortly.counting, bootcamps.caching).
    pagination_class = cached_count_pagination(Bootcamp)
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.bootcamp_list_for(self.request.user)

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return BootcampWriteSerializer
        return BootcampSerializer

    # Reads: plain rows and one query for seats and people (bootcamps.selectors),
    # cached per scope and URL when Redis is there (bootcamps.caching).
    def _bootcamp_data(self, pk) -> dict | None:
        """One bootcamp in the caller's scope as the API shows it, or None."""
        row = selectors.bootcamp_row_for(self.request.user, int(pk))
        if row is None:
            return None
        return bootcamp_json(row, selectors.bootcamp_page_details([row["id"]])[row["id"]])

    def _present(self, bootcamp, status_code=status.HTTP_200_OK):
        return Response(self._bootcamp_data(bootcamp.pk), status=status_code)

    def _scope(self):
        return "all" if can_see_all_bootcamps(self.request.user) else "published"

    def list(self, request, *args, **kwargs):
        def build():
            rows = self.paginator.paginate_rows(
                Bootcamp,
                lambda: selectors.bootcamp_values(
                    self.filter_queryset(selectors.bootcamp_scope_for(request.user))
                ),
                request,
                self,
            )
            details = selectors.bootcamp_page_details([row["id"] for row in rows])
            return self.get_paginated_response(bootcamps_json(rows, details)).data

        return cached_response(self._scope(), request.build_absolute_uri(), build)

    def retrieve(self, request, *args, **kwargs):
        return cached_response(
            self._scope(), request.build_absolute_uri(), lambda: self._bootcamp_data(kwargs["pk"])
        )

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
