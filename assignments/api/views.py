from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.permissions import RolePermission
from assignments import selectors, services
from assignments.api.renderers import GradebookCSVRenderer, gradebook_download_headers
from assignments.api.serializers import (
    AssignmentCreateSerializer,
    AssignmentSerializer,
    AssignmentUpdateSerializer,
    GradebookSerializer,
    GradeSerializer,
    ReturnSerializer,
    SubmissionSerializer,
    SubmitSerializer,
)
from assignments.filtersets import AssignmentFilterSet, AssignmentSubmissionFilterSet, SubmissionFilterSet
from assignments.permissions import AUTHORS, COURSE_MEMBERS, GRADEBOOK_READERS, GRADERS, SUBMITTERS
from cohortly.filters import FiltersListsOnly
from cohortly.openapi import AutoSchema
from cohortly.renderers import JSONRenderer

SUBMISSION_SEARCH_FIELDS = ["student__email", "student__full_name", "assignment__title"]


@extend_schema(tags=["assignments"])
@extend_schema_view(
    list=extend_schema(
        summary="List assignments",
        description=(
            "ADMIN: every assignment. INSTRUCTOR/MENTOR: those of the bootcamps they teach or mentor, "
            "drafts included. STUDENT: published assignments of bootcamps where their enrollment is "
            "ACTIVE or COMPLETED. SALES: 403."
        ),
    ),
    retrieve=extend_schema(
        summary="Read an assignment", description="An assignment outside the caller's scope is a 404."
    ),
    create=extend_schema(summary="Create an assignment"),
    partial_update=extend_schema(summary="Update an assignment"),
    submissions=extend_schema(summary="List an assignment's submissions"),
    destroy=extend_schema(
        summary="Delete an assignment",
        description="An assignment with submissions cannot be deleted (409): unpublish it.",
    ),
)
class AssignmentViewSet(
    FiltersListsOnly,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [RolePermission]
    read_roles = COURSE_MEMBERS
    write_roles = AUTHORS
    action_roles = {"submissions": COURSE_MEMBERS, "submit": SUBMITTERS}
    conflict_actions = ("destroy", "submit")
    # The list and an assignment's submissions are filtered; a row read by its id never is.
    filtered_actions = frozenset({"list", "submissions"})
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilterSet
    search_fields = ["title", "description"]
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self):
        # What each action takes, so that OPTIONS describes a POST with the fields it
        # accepts (ActionMetadata), not with the assignment or submission it answers.
        return {
            "create": AssignmentCreateSerializer,
            "partial_update": AssignmentUpdateSerializer,
            "submit": SubmitSerializer,
        }.get(self.action, super().get_serializer_class())

    def get_queryset(self):
        # The submissions action lists (and filters, with its SubmissionFilterSet)
        # submissions; it reads its assignment with get_object.
        if self.action == "submissions":
            return selectors.submission_list_for(self.request.user)
        return selectors.assignment_list_for(self.request.user)

    def get_object(self):
        if self.action not in ("submissions", "submit"):
            return super().get_object()
        # The assignment in the caller's scope, or a 404; no list filter applies to it.
        assignment = get_object_or_404(
            selectors.assignment_list_for(self.request.user), pk=self.kwargs[self.lookup_field]
        )
        self.check_object_permissions(self.request, assignment)
        return assignment

    @extend_schema(
        request=AssignmentCreateSerializer,
        responses={201: AssignmentSerializer},
        description=(
            "ADMIN, or an INSTRUCTOR for a bootcamp they teach (another bootcamp: 400 on `bootcamp`)."
        ),
    )
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.assignment_create(created_by=request.user, **serializer.validated_data)
        return Response(AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=AssignmentUpdateSerializer,
        responses={200: AssignmentSerializer},
        description=(
            "ADMIN, or an INSTRUCTOR of the assignment's bootcamp. The bootcamp cannot change. Moving "
            "`due_at` re-flags late submissions. `max_score` stays once any submission is graded: "
            "400 `has_grades`, or `below_given_score` for one below a score given (a grade was told "
            "out of it)."
        ),
    )
    def partial_update(self, request, *args, **kwargs):
        assignment = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.assignment_update(
            assignment=assignment, updated_by=request.user, data=serializer.validated_data
        )
        return Response(AssignmentSerializer(assignment).data)

    def perform_destroy(self, instance):
        services.assignment_delete(assignment=instance, deleted_by=self.request.user)

    @extend_schema(
        tags=["submissions"],
        responses=SubmissionSerializer(many=True),
        description=(
            "Submissions to this assignment: its bootcamp's instructors and mentors and ADMIN see all; "
            "a student sees only their own. By student name unless `ordering` says otherwise; the "
            "filters and `search` of `GET /submissions/`."
        ),
    )
    @action(
        detail=True,
        methods=["get"],
        serializer_class=SubmissionSerializer,
        filterset_class=AssignmentSubmissionFilterSet,
        search_fields=SUBMISSION_SEARCH_FIELDS,
    )
    def submissions(self, request, pk=None):
        assignment = self.get_object()
        queryset = self.filter_queryset(self.get_queryset().filter(assignment=assignment))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(SubmissionSerializer(page, many=True).data)

    @extend_schema(
        tags=["submissions"],
        summary="Hand in work",
        request=SubmitSerializer,
        responses={
            201: OpenApiResponse(SubmissionSerializer, "Handed in for the first time."),
            200: OpenApiResponse(SubmissionSerializer, "Replaced the earlier, not yet graded, submission."),
        },
        description=(
            "A STUDENT with an ACTIVE enrollment in the bootcamp hands in work (content, link or both). "
            "Again before grading: replaces it (same submission). After grading: 409. After `due_at`: "
            "accepted and flagged `is_late`. A COMPLETED student sees the assignment but gets 403. "
            "The student gets a receipt by email."
        ),
    )
    @submissions.mapping.post
    def submit(self, request, pk=None):
        assignment = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission, created = services.submission_submit(
            assignment=assignment, student=request.user, **serializer.validated_data
        )
        return Response(
            SubmissionSerializer(submission).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema(tags=["submissions"])
# The score's upper bound is the assignment's max_score, checked by the service.
@extend_validation_errors(["max_value"], field_name="score", actions=["grade"])
@extend_schema_view(
    list=extend_schema(
        summary="List submissions",
        description=(
            "ADMIN: every submission. INSTRUCTOR/MENTOR: those to their bootcamps' assignments. "
            "STUDENT: their own. SALES: 403."
        ),
    ),
    retrieve=extend_schema(
        summary="Read a submission", description="A submission outside the caller's scope is a 404."
    ),
    grade=extend_schema(summary="Grade a submission"),
    return_for_revision=extend_schema(summary="Return a submission for revision"),
)
class SubmissionViewSet(
    FiltersListsOnly, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = [RolePermission]
    read_roles = COURSE_MEMBERS
    action_roles = {"grade": GRADERS, "return_for_revision": GRADERS}
    conflict_actions = ("grade", "return_for_revision")
    serializer_class = SubmissionSerializer
    filterset_class = SubmissionFilterSet
    search_fields = SUBMISSION_SEARCH_FIELDS
    lookup_value_regex = "[0-9]+"

    def get_serializer_class(self):
        # As AssignmentViewSet's: OPTIONS describes grading and returning with what they take.
        return {"grade": GradeSerializer, "return_for_revision": ReturnSerializer}.get(
            self.action, super().get_serializer_class()
        )

    def get_queryset(self):
        return selectors.submission_list_for(self.request.user)

    @extend_schema(
        request=GradeSerializer,
        responses={200: SubmissionSerializer},
        description=(
            "ADMIN, or an INSTRUCTOR or MENTOR of the submission's bootcamp. 0 ≤ score ≤ the assignment's "
            "max_score (else 400 on `score`). Records the grader and the time and emails the student. "
            "Regrading is allowed: it replaces the score, grader and time, emails the student again, and "
            "keeps the earlier feedback when `feedback` is left out. Send the `submitted_at` the "
            "submission showed: work handed in again since is 409 `handed_in_again`, not graded."
        ),
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def grade(self, request, pk=None):
        submission = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission = services.submission_grade(
            submission=submission,
            grader=request.user,
            score=serializer.validated_data["score"],
            feedback=serializer.validated_data.get("feedback"),
            submitted_at=serializer.validated_data.get("submitted_at"),
        )
        return Response(SubmissionSerializer(submission).data)

    @extend_schema(
        request=ReturnSerializer,
        responses={200: SubmissionSerializer},
        description=(
            "ADMIN, or an INSTRUCTOR or MENTOR of the submission's bootcamp. Withdraws the grade (score, "
            "grader and time; `status` becomes `returned`, `returned_at` says when), replaces the feedback "
            "with `feedback` when given (it says what to revise), and emails the student. The student can "
            "then hand the work in again (`status` submitted; after the due time it is flagged late), and "
            "it is graded again. 409 `not_graded` for work that isn't graded (its student can still replace "
            "it); 409 `cannot_resubmit` when its student couldn't hand it in again (an archived bootcamp, "
            "an unpublished assignment, a deactivated student, an enrollment no longer ACTIVE). Returning "
            "work that already waits for its revision only replaces the feedback, if it differs."
        ),
    )
    @action(detail=True, methods=["post"], url_path="return", filter_backends=[])
    def return_for_revision(self, request, pk=None):
        submission = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission = services.submission_return(
            submission=submission,
            returned_by=request.user,
            feedback=serializer.validated_data.get("feedback"),
        )
        return Response(SubmissionSerializer(submission).data)


class GradebookSchema(AutoSchema):
    """Errors are JSON even when CSV was asked for (see finalize_response)."""

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        if media_types is None and str(status_code)[0] in "45":
            media_types = [JSONRenderer.media_type]
        return super()._get_response_for_code(serializer, status_code, media_types, direction)


BOOTCAMP_PK = OpenApiParameter(
    "bootcamp_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="A bootcamp's id."
)


class GradebookView(GenericAPIView):
    """Every ACTIVE/COMPLETED student against every published assignment of a
    bootcamp; a student's own row only, for a student."""

    permission_classes = [RolePermission]
    read_roles = GRADEBOOK_READERS
    renderer_classes = [JSONRenderer, GradebookCSVRenderer]
    serializer_class = GradebookSerializer
    schema = GradebookSchema()
    filter_backends = []
    pagination_class = None

    @extend_schema(
        tags=["assignments"],
        operation_id="bootcamps_gradebook_retrieve",
        summary="A bootcamp's gradebook",
        # ?format=csv still works here; the CSV is documented as its own operation.
        parameters=[BOOTCAMP_PK, OpenApiParameter("format", exclude=True)],
        responses={(200, JSONRenderer.media_type): GradebookSerializer},
        description=(
            "For ADMIN and the bootcamp's instructors and mentors, and for a STUDENT with an ACTIVE or "
            "COMPLETED seat in it, who gets their own row only: their standing (SALES: 403; another "
            "bootcamp's staff or students, or no such bootcamp: 404, as for anything out of scope). "
            "Rows: every ACTIVE or COMPLETED student. Columns: every "
            "*published* assignment (drafts are left out: students can neither see nor submit them). "
            "A cell is `missing` when the student has no submission and the due time has passed, "
            "`not_due` when it hasn't yet, and `not_expected` (not counted) when it was due after the "
            "student's enrollment was completed, since they could no longer hand it in. The average is "
            "the mean of "
            "score / max_score × 100 over graded assignments only: missing and ungraded work is not "
            "counted as zero (see the counts); the points weigh each assignment by its max_score and "
            "count missing work as zero. The same table as CSV: `GET .../gradebook.csv` "
            "(`?format=csv` or `Accept: text/csv` here does the same). A fixed number of queries "
            "whatever the size."
        ),
    )
    def get(self, request, bootcamp_pk):
        bootcamp = get_object_or_404(selectors.bootcamp_gradebook_list_for(request.user), pk=bootcamp_pk)
        data = GradebookSerializer(selectors.gradebook_for(request.user, bootcamp)).data
        response = Response(data)
        if request.accepted_renderer.format == GradebookCSVRenderer.format:
            for header, value in gradebook_download_headers(bootcamp).items():
                response[header] = value
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Only a gradebook is CSV: errors (and OPTIONS) keep the API's JSON shape.
        is_gradebook = request.method in ("GET", "HEAD") and response.status_code == status.HTTP_200_OK
        if isinstance(response.accepted_renderer, GradebookCSVRenderer) and not is_gradebook:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class GradebookCSVView(GradebookView):
    """The gradebook as a CSV download: its own operation, so a client generated
    from the schema types the JSON gradebook as JSON only."""

    renderer_classes = [GradebookCSVRenderer]

    @extend_schema(
        tags=["assignments"],
        operation_id="bootcamps_gradebook_csv",
        summary="A bootcamp's gradebook as CSV",
        parameters=[BOOTCAMP_PK],
        responses={(200, GradebookCSVRenderer.media_type): OpenApiResponse(OpenApiTypes.STR)},
        description=(
            "The gradebook's table, one row per student: Student, Email, Enrollment; per assignment a "
            "score column and a status column (graded, submitted, returned, missing, not_due or "
            "not_expected, with "
            "`, late` when handed in late); then Average %, Points, Points possible, Points %, Graded, "
            "Awaiting grade, Awaiting revision, Missing. Who may read it, which rows they see and the "
            "errors (always JSON) are the gradebook's."
        ),
    )
    def get(self, request, bootcamp_pk):
        return super().get(request, bootcamp_pk)
