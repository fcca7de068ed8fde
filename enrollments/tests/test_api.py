import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from bootcamps.tests.factories import BootcampFactory, DraftBootcampFactory, RunningBootcampFactory
from conftest import assert_error
from enrollments.models import Enrollment
from enrollments.services import enrollment_cancel
from enrollments.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db
Role = User.Role
Status = Enrollment.Status
URL = "/api/v1/enrollments/"


def detail(enrollment, suffix=""):
    return f"{URL}{enrollment.pk}/{suffix}"


@pytest.fixture
def world(make_user):
    """Two bootcamps; `mine` is taught/mentored by the caller when they are
    an instructor/mentor and holds the caller's own enrollment when a student."""

    def _world(user):
        role = user.role if user else None
        mine = BootcampFactory(
            title="Mine",
            instructors=[user] if role == Role.INSTRUCTOR else [],
            mentors=[user] if role == Role.MENTOR else [],
        )
        other = BootcampFactory(title="Other")
        own = EnrollmentFactory(bootcamp=mine, student=user) if role == Role.STUDENT else None
        same_bootcamp = EnrollmentFactory(bootcamp=mine)
        elsewhere = EnrollmentFactory(bootcamp=other)
        return {"mine": mine, "other": other, "own": own, "same": same_bootcamp, "elsewhere": elsewhere}

    return _world


# --- reading and scope ------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        (Role.ADMIN, {"same", "elsewhere"}),
        (Role.SALES, {"same", "elsewhere"}),
        (Role.INSTRUCTOR, {"same"}),
        (Role.MENTOR, {"same"}),
        (Role.STUDENT, {"own"}),
    ],
)
def test_list_and_retrieve_scope_by_role(client_for, world, role, visible):
    client, user = client_for(role)
    rows = world(user)
    response = client.get(URL)
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {rows[name].pk for name in visible}
    for name in ("own", "same", "elsewhere"):
        if rows[name] is None:
            continue
        response = client.get(detail(rows[name]))
        if name in visible:
            assert response.json()["id"] == rows[name].pk
        else:
            assert_error(response, 404, code="not_found")


def test_anonymous_cannot_read(anon_client):
    enrollment = EnrollmentFactory()
    assert_error(anon_client.get(URL), 401)
    assert_error(anon_client.get(detail(enrollment)), 401)


def test_body_shape(student_client, student_user):
    bootcamp = BootcampFactory(capacity=1, title="Data Science")
    EnrollmentFactory(bootcamp=bootcamp)
    enrollment = EnrollmentFactory(bootcamp=bootcamp, student=student_user, waitlisted=True)
    body = student_client.get(f"{URL}{enrollment.pk}").json()
    assert body == {
        "id": enrollment.pk,
        "student": {
            "id": str(student_user.pk),
            "full_name": "Stella Student",
            "email": "student@example.com",
        },
        "bootcamp": {
            "id": bootcamp.pk,
            "title": "Data Science",
            "slug": bootcamp.slug,
            "start_date": bootcamp.start_date.isoformat(),
            "end_date": bootcamp.end_date.isoformat(),
            "status": "PUBLISHED",
        },
        "status": "WAITLISTED",
        "waitlist_position": 1,
        "enrolled_at": body["enrolled_at"],
        "completed_at": None,
        "updated_at": body["updated_at"],
    }


def test_filters_narrow_lists_never_an_enrollment_read_by_id(student_client, student_user):
    enrollment = EnrollmentFactory(student=student_user)
    for params in ({"status": "CANCELLED"}, {"search": "nobody"}, {"bootcamp": "x"}):
        response = student_client.get(f"{URL}{enrollment.pk}/", params)
        assert response.status_code == 200, (params, response.content)
        assert response.json()["id"] == enrollment.pk
    # A detail action too: the cancel finds the enrollment whatever the query string says.
    response = student_client.post(f"{URL}{enrollment.pk}/cancel/?status=CANCELLED")
    assert response.status_code == 200, response.content
    enrollment.refresh_from_db()
    assert enrollment.status == "CANCELLED"


def test_filters_and_ordering(admin_client, enroll):
    a, b = BootcampFactory(capacity=1), BootcampFactory(capacity=5)
    in_a = enroll(a, 4)  # 1 active, 3 waitlisted
    in_b = enroll(b, 1)

    def ids(**params):
        response = admin_client.get(URL, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert set(ids(bootcamp=a.pk)) == {e.pk for e in in_a}
    assert ids(bootcamp=a.pk, status="WAITLISTED", ordering="waitlist_position") == [e.pk for e in in_a[1:]]
    assert ids(bootcamp=a.pk, status="WAITLISTED", ordering="-waitlist_position") == [
        e.pk for e in in_a[:0:-1]
    ]
    assert set(ids(status=["ACTIVE"])) == {in_a[0].pk, in_b[0].pk}
    assert ids(student=str(in_b[0].student_id)) == [in_b[0].pk]
    assert ids(search=in_b[0].student.email) == [in_b[0].pk]
    positions = [
        row["waitlist_position"]
        for row in admin_client.get(URL, {"bootcamp": a.pk, "ordering": "enrolled_at"}).json()["results"]
    ]
    assert positions == [None, 1, 2, 3]


@pytest.mark.parametrize(("param", "value"), [("bootcamp", "abc"), ("student", "nope"), ("status", "PAUSED")])
def test_bad_filter_values_are_400(admin_client, param, value):
    assert_error(admin_client.get(URL, {param: value}), 400, attr=param)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.INSTRUCTOR, Role.STUDENT])
def test_list_runs_a_fixed_number_of_queries(
    client_for,
    enroll,
    django_assert_max_num_queries,
    django_assert_num_queries,
    no_query_cache,
    no_throttle,
    role,
):
    client, user = client_for(role)
    bootcamp = BootcampFactory(capacity=3, instructors=[user] if role == Role.INSTRUCTOR else [])

    def add(n):
        for enrollment in enroll(bootcamp, n):
            if role == Role.STUDENT:  # a student sees only their own: make them theirs across bootcamps
                enrollment_cancel(enrollment=enrollment, notify=False)
                EnrollmentFactory(student=user, waitlisted=True)

    add(5)
    client.get(URL)  # with Redis the user is then cached: both measurements see the same state
    with django_assert_max_num_queries(3) as captured:  # the user, count, the page
        response = client.get(URL, {"page_size": 100})
    assert len(response.json()["results"]) == 5
    add(20)
    with django_assert_num_queries(len(captured.captured_queries)):
        response = client.get(URL, {"page_size": 100})
    results = response.json()["results"]
    assert len(results) == 25
    if role != Role.STUDENT:
        assert sorted(r["waitlist_position"] for r in results if r["waitlist_position"]) == list(range(1, 23))


# --- enrolling --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, 401),
        (Role.ADMIN, 201),
        (Role.SALES, 201),
        (Role.INSTRUCTOR, 403),
        (Role.MENTOR, 403),
        (Role.STUDENT, 201),
    ],
)
def test_create_by_role(client_for, make_user, role, expected):
    client, user = client_for(role)
    bootcamp = BootcampFactory(instructors=[user] if role == Role.INSTRUCTOR else [])
    student = user if role == Role.STUDENT else make_user(Role.STUDENT)
    data = (
        {"bootcamp": bootcamp.pk}
        if role == Role.STUDENT
        else {"bootcamp": bootcamp.pk, "student": str(student.pk)}
    )
    response = client.post(URL, data, format="json")
    if expected == 201:
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["student"]["id"], body["bootcamp"]["id"], body["status"]) == (
            str(student.pk),
            bootcamp.pk,
            "ACTIVE",
        )
        assert Enrollment.objects.get(pk=body["id"]).student == student
    else:
        assert_error(response, expected)
        assert not Enrollment.objects.exists()


def test_student_may_name_themself_but_nobody_else(student_client, student_user, make_user):
    bootcamp = BootcampFactory()
    other = make_user(Role.STUDENT)
    body = assert_error(
        student_client.post(URL, {"bootcamp": bootcamp.pk, "student": str(other.pk)}, format="json"), 403
    )
    assert body["errors"][0]["detail"] == "Students can only enroll themselves."
    # Even an id that doesn't exist is refused the same way (nothing to probe).
    assert_error(
        student_client.post(URL, {"bootcamp": bootcamp.pk, "student": str(uuid.uuid4())}, format="json"), 403
    )
    assert not Enrollment.objects.exists()
    response = student_client.post(
        URL, {"bootcamp": bootcamp.pk, "student": str(student_user.pk)}, format="json"
    )
    assert response.status_code == 201


def test_full_bootcamp_waitlists_with_position(student_client, enroll):
    bootcamp = BootcampFactory(capacity=1)
    enroll(bootcamp, 3)
    body = student_client.post(URL, {"bootcamp": bootcamp.pk}, format="json").json()
    assert (body["status"], body["waitlist_position"]) == ("WAITLISTED", 3)


def test_staff_must_name_the_student(admin_client):
    body = assert_error(
        admin_client.post(URL, {"bootcamp": BootcampFactory().pk}, format="json"), 400, attr="student"
    )
    assert body["errors"][0]["code"] == "required_for_staff"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SALES, Role.INSTRUCTOR, Role.MENTOR])
def test_staff_cannot_enroll_a_non_student(sales_client, make_user, role):
    user = make_user(role)
    response = sales_client.post(
        URL, {"bootcamp": BootcampFactory().pk, "student": str(user.pk)}, format="json"
    )
    assert_error(response, 400, code="not_a_student", attr="student")


def test_draft_bootcamp_does_not_exist_for_a_student_and_is_closed_for_staff(
    student_client, sales_client, student_user
):
    draft = DraftBootcampFactory()
    body = assert_error(student_client.post(URL, {"bootcamp": draft.pk}, format="json"), 400, attr="bootcamp")
    assert body["errors"][0]["code"] == "does_not_exist"
    assert body["errors"][0]["detail"] == f"There is no bootcamp with the id {draft.pk}."
    body = assert_error(student_client.post(URL, {"bootcamp": "abc"}, format="json"), 400, attr="bootcamp")
    assert body["errors"][0]["detail"] == "Give the bootcamp's id as a whole number, not text."
    body = assert_error(student_client.post(URL, {"bootcamp": 1.5}, format="json"), 400, attr="bootcamp")
    assert body["errors"][0]["detail"] == "Give the bootcamp's id as a whole number, not a decimal number."
    missing = uuid.uuid4()
    body = assert_error(
        sales_client.post(URL, {"bootcamp": draft.pk, "student": str(missing)}, format="json"),
        400,
        attr="student",
    )
    assert body["errors"][0]["detail"] == f"There is no user with the id {missing}."
    body = assert_error(
        sales_client.post(URL, {"bootcamp": draft.pk, "student": str(student_user.pk)}, format="json"),
        400,
        attr="bootcamp",
    )
    assert "not open for enrollment" in body["errors"][0]["detail"]
    assert body["errors"][0]["code"] == "not_open"


def test_ended_bootcamp_is_400(student_client):
    ended = BootcampFactory(
        start_date=timezone.localdate() - timedelta(days=20),
        end_date=timezone.localdate() - timedelta(days=1),
    )
    body = assert_error(
        student_client.post(URL, {"bootcamp": ended.pk}, format="json"), 400, code="ended", attr="bootcamp"
    )
    assert "already ended" in body["errors"][0]["detail"]


def test_duplicate_is_409_and_reenrolling_after_cancel_reuses_the_row(student_client):
    bootcamp = BootcampFactory()
    first = student_client.post(URL, {"bootcamp": bootcamp.pk}, format="json").json()
    body = assert_error(
        student_client.post(URL, {"bootcamp": bootcamp.pk}, format="json"), 409, code="already_enrolled"
    )
    assert body["errors"][0]["detail"] == "This student is already enrolled in this bootcamp."
    student_client.post(detail(Enrollment.objects.get(pk=first["id"]), "cancel"))
    again = student_client.post(URL, {"bootcamp": bootcamp.pk}, format="json")
    assert again.status_code == 201
    assert (again.json()["id"], again.json()["status"]) == (first["id"], "ACTIVE")
    assert Enrollment.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "attr", "code"),
    [
        ({}, "bootcamp", "required"),
        ({"bootcamp": None}, "bootcamp", "null"),
        ({"bootcamp": "abc"}, "bootcamp", "incorrect_type"),
        ({"bootcamp": 999_999}, "bootcamp", "does_not_exist"),
        ({"bootcamp": 10**30}, "bootcamp", None),
        ({"bootcamp": [1]}, "bootcamp", None),
        ({"bootcamp": "1", "student": "not-a-uuid"}, "student", None),
        ({"bootcamp": "1", "student": str(uuid.uuid4())}, "student", "does_not_exist"),
        ({"bootcamp": "1", "student": "x" * 5000}, "student", None),
    ],
)
def test_create_bad_input(sales_client, data, attr, code):
    BootcampFactory(id=1)
    assert_error(sales_client.post(URL, data, format="json"), 400, code=code, attr=attr)
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize(
    "data", [{"bootcamp": 1, "status": "ACTIVE"}, {"bootcamp": 1, "waitlist_position": 1}]
)
def test_create_refuses_unknown_fields(student_client, data):
    BootcampFactory(id=1)
    assert_error(student_client.post(URL, data, format="json"), 400, code="unknown_field")


def test_create_malformed_bodies(student_client):
    assert_error(
        student_client.post(URL, "{bootcamp: 1", content_type="application/json"), 400, code="parse_error"
    )
    assert_error(student_client.post(URL, "[]", content_type="application/json"), 400)
    assert_error(
        student_client.post(URL, "bootcamp=1", content_type="application/x-www-form-urlencoded"), 415
    )


def test_update_and_delete_are_not_offered(admin_client):
    enrollment = EnrollmentFactory()
    assert_error(admin_client.patch(detail(enrollment), {"status": "DROPPED"}, format="json"), 405)
    assert_error(admin_client.delete(detail(enrollment)), 405)


# --- cancelling --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, 401),
        (Role.ADMIN, 200),
        (Role.SALES, 200),
        (Role.INSTRUCTOR, 403),
        (Role.MENTOR, 403),
        (Role.STUDENT, 200),
    ],
)
def test_cancel_by_role(client_for, role, expected):
    client, user = client_for(role)
    bootcamp = BootcampFactory(
        instructors=[user] if role == Role.INSTRUCTOR else [], mentors=[user] if role == Role.MENTOR else []
    )
    enrollment = EnrollmentFactory(bootcamp=bootcamp, **({"student": user} if role == Role.STUDENT else {}))
    response = client.post(detail(enrollment, "cancel"))
    enrollment.refresh_from_db()
    if expected == 200:
        assert response.json()["status"] == "CANCELLED"
        assert enrollment.status == Status.CANCELLED
    else:
        assert_error(response, expected)
        assert enrollment.status == Status.ACTIVE


def test_an_active_enrollment_of_a_bootcamp_that_has_ended_is_not_cancelled(
    student_client, student_user, admin_client
):
    ended = BootcampFactory(
        title="Web",
        start_date=timezone.localdate() - timedelta(days=60),
        end_date=timezone.localdate() - timedelta(days=1),
    )
    mine = EnrollmentFactory(bootcamp=ended, student=student_user)
    body = assert_error(student_client.post(detail(mine, "cancel")), 409, code="bootcamp_ended")
    assert body["errors"][0]["detail"] == (
        f"Web ended on {ended.end_date:%Y-%m-%d}: its enrollments are a record now and can't be "
        "cancelled. Staff mark them completed or dropped."
    )
    assert_error(admin_client.post(detail(mine, "cancel")), 409, code="bootcamp_ended")
    assert Enrollment.objects.get(pk=mine.pk).status == Status.ACTIVE
    # Staff close it; a place still waiting when it ended can be let go.
    assert (
        admin_client.post(detail(mine, "status"), {"status": "COMPLETED"}, format="json").status_code == 200
    )
    waiting = EnrollmentFactory(bootcamp=ended, waitlisted=True)
    assert admin_client.post(detail(waiting, "cancel")).json()["status"] == "CANCELLED"
    # On its last day it is still running.
    today = BootcampFactory(
        start_date=timezone.localdate() - timedelta(days=30), end_date=timezone.localdate()
    )
    last_day = EnrollmentFactory(bootcamp=today, student=student_user)
    assert student_client.post(detail(last_day, "cancel")).json()["status"] == "CANCELLED"


def test_student_cannot_cancel_someone_elses(student_client):
    enrollment = EnrollmentFactory()
    assert_error(student_client.post(detail(enrollment, "cancel")), 404)
    assert Enrollment.objects.get(pk=enrollment.pk).status == Status.ACTIVE


def test_cancel_promotes_via_the_api(
    student_client, student_user, enroll, admin_client, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp = BootcampFactory(capacity=1)
    mine = EnrollmentFactory(bootcamp=bootcamp, student=student_user)
    first, second = enroll(bootcamp, 2)
    with django_capture_on_commit_callbacks(execute=True):
        response = student_client.post(f"{URL}{mine.pk}/cancel")  # no trailing slash works too
    assert response.json()["status"] == "CANCELLED" and response.json()["waitlist_position"] is None
    assert admin_client.get(detail(first)).json()["status"] == "ACTIVE"
    assert admin_client.get(detail(second)).json()["waitlist_position"] == 1
    assert [(m.to, m.subject.split(":")[0]) for m in mailoutbox] == [
        ([student_user.email], f"Your enrollment in {bootcamp.title} is cancelled"),
        ([first.student.email], "A seat opened up"),
    ]


def test_cancel_twice_is_409(student_client, student_user):
    enrollment = EnrollmentFactory(student=student_user)
    student_client.post(detail(enrollment, "cancel"))
    body = assert_error(student_client.post(detail(enrollment, "cancel")), 409, code="invalid_transition")
    assert body["errors"][0]["detail"] == "A cancelled enrollment cannot be cancelled."


def test_cancel_ignores_a_body_but_refuses_unknown_ids(admin_client):
    assert_error(admin_client.post(f"{URL}999999/cancel/"), 404)


# --- staff transitions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, 401),
        (Role.ADMIN, 200),
        (Role.SALES, 403),
        (Role.INSTRUCTOR, 200),
        (Role.MENTOR, 403),
        (Role.STUDENT, 403),
    ],
)
def test_set_status_by_role(client_for, role, expected):
    client, user = client_for(role)
    bootcamp = RunningBootcampFactory(
        instructors=[user] if role == Role.INSTRUCTOR else [], mentors=[user] if role == Role.MENTOR else []
    )
    enrollment = EnrollmentFactory(bootcamp=bootcamp, **({"student": user} if role == Role.STUDENT else {}))
    response = client.post(detail(enrollment, "status"), {"status": "COMPLETED"}, format="json")
    enrollment.refresh_from_db()
    if expected == 200:
        assert response.json()["status"] == "COMPLETED"
        assert enrollment.status == Status.COMPLETED
    else:
        assert_error(response, expected)
        assert enrollment.status == Status.ACTIVE


def test_instructor_of_another_bootcamp_gets_404(instructor_client):
    enrollment = EnrollmentFactory()
    assert_error(
        instructor_client.post(detail(enrollment, "status"), {"status": "DROPPED"}, format="json"), 404
    )
    assert Enrollment.objects.get(pk=enrollment.pk).status == Status.ACTIVE


def test_drop_promotes_the_waitlist_and_each_student_is_told(
    instructor_client, instructor_user, enroll, django_capture_on_commit_callbacks, mailoutbox
):
    bootcamp = RunningBootcampFactory(title="Design & Code", capacity=1, instructors=[instructor_user])
    active, waiting = enroll(bootcamp, 2)
    with django_capture_on_commit_callbacks(execute=True):
        response = instructor_client.post(detail(active, "status"), {"status": "DROPPED"}, format="json")
    assert response.json()["status"] == "DROPPED"
    assert Enrollment.objects.get(pk=waiting.pk).status == Status.ACTIVE
    with django_capture_on_commit_callbacks(execute=True):
        instructor_client.post(detail(waiting, "status"), {"status": "COMPLETED"}, format="json")
    assert [(m.to, m.subject) for m in mailoutbox] == [
        ([active.student.email], "You are no longer enrolled in Design & Code"),
        ([waiting.student.email], "A seat opened up: you're in Design & Code"),
        ([waiting.student.email], "You have completed Design & Code"),
    ]
    assert "have withdrawn you from it" in mailoutbox[0].body
    assert "Congratulations: you have completed Design & Code." in mailoutbox[2].body


@pytest.mark.parametrize(
    ("data", "attr", "code"),
    [
        ({}, "status", "required"),
        ({"status": "CANCELLED"}, "status", "invalid_choice"),
        ({"status": "ACTIVE"}, "status", "invalid_choice"),
        ({"status": 3}, "status", "invalid_choice"),
        ({"status": "COMPLETED", "note": "x"}, None, "unknown_field"),
    ],
)
def test_set_status_bad_input(admin_client, data, attr, code):
    enrollment = EnrollmentFactory()
    assert_error(
        admin_client.post(detail(enrollment, "status"), data, format="json"), 400, code=code, attr=attr
    )
    assert Enrollment.objects.get(pk=enrollment.pk).status == Status.ACTIVE


def test_set_status_of_a_non_active_enrollment_is_409(admin_client):
    enrollment = EnrollmentFactory(waitlisted=True)
    body = assert_error(
        admin_client.post(detail(enrollment, "status"), {"status": "COMPLETED"}, format="json"),
        409,
        code="invalid_transition",
    )
    assert "only active enrollments can" in body["errors"][0]["detail"]


def test_completing_before_the_bootcamp_starts_is_409_and_dropping_is_not(admin_client, enroll):
    bootcamp = BootcampFactory(title="Data", start_date=timezone.localdate() + timedelta(days=1))
    (enrollment,) = enroll(bootcamp, 1)
    body = assert_error(
        admin_client.post(detail(enrollment, "status"), {"status": "COMPLETED"}, format="json"),
        409,
        code="not_started",
    )
    assert body["errors"][0]["detail"] == (
        f"Data starts on {bootcamp.start_date:%Y-%m-%d}; nobody can complete it before it has started."
    )
    assert Enrollment.objects.get(pk=enrollment.pk).status == Status.ACTIVE
    # A student can still leave before the start, and complete once it has started.
    response = admin_client.post(detail(enrollment, "status"), {"status": "DROPPED"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "DROPPED"
    (started,) = enroll(BootcampFactory(start_date=timezone.localdate()), 1)
    response = admin_client.post(detail(started, "status"), {"status": "COMPLETED"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "COMPLETED"
