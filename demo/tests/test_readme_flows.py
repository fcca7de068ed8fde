"""The README's examples work on the demo data: its logins log in, and the
flows of "The API's main flows" (README.md) run, as written, against what
`seed_demo` loads.

The flows are encoded here, in the README's order; every request body and
query they send is taken from the README by its literal text (`readme_json`,
`readme_text`), so a README edit that changes one fails here until the flow is
checked again. The README's ids (bootcamp 3, enrollment 63, ...) stand for
whichever demo record the flow needs: those the test looks up.
"""

import datetime
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from rest_framework.test import APIClient

from assignments.models import Assignment, Submission
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment

pytestmark = pytest.mark.django_db

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
API = "/api/v1"


def readme_text(text: str) -> str:
    assert text in README, f"README.md no longer says {text!r}: check this flow against it"
    return text


def readme_json(text: str) -> dict:
    """A request body the README sends with curl -d '...'."""
    return json.loads(readme_text(f"-d '{text}'")[4:-1])


def demo_logins() -> dict[str, tuple[str, str]]:
    """The README's "Demo logins" table: email -> (role, password)."""
    section = README.split("## Demo logins", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\w+) \| `([^`]+)` \| `([^`]+)` \|$", section, re.MULTILINE)
    return {email: (role, password) for role, email, password in rows}


@pytest.fixture
def demo():
    call_command("seed_demo", "--without-debug", stdout=io.StringIO())


def log_in(email: str) -> APIClient:
    """A client carrying the access token from logging in with the README's password."""
    client = APIClient()
    response = client.post(f"{API}/auth/login", {"email": email, "password": demo_logins()[email][1]})
    assert response.status_code == 200, (email, response.content)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json() if response.get("Content-Type", "").startswith("application/json") else response


def running_bootcamp() -> Bootcamp:
    """The README's "running bootcamp (Data Science, with work to grade)"."""
    readme_text("teach the running bootcamp (Data Science, with work to grade)")
    return Bootcamp.objects.get(title__startswith="Data Science", status=Bootcamp.Status.PUBLISHED)


def test_every_demo_login_in_the_readme_logs_in_with_its_role(demo):
    logins = demo_logins()
    assert len(logins) == 8 and {role for role, _ in logins.values()} == {
        "ADMIN",
        "SALES",
        "INSTRUCTOR",
        "MENTOR",
        "STUDENT",
    }
    for email, (role, password) in logins.items():
        body = ok(APIClient().post(f"{API}/auth/login", {"email": email, "password": password}))
        assert body["user"]["role"] == role, email


def test_accounts_and_tokens(demo, django_capture_on_commit_callbacks):
    anon = APIClient()
    with django_capture_on_commit_callbacks(execute=True):  # the welcome email goes out
        body = ok(
            anon.post(
                f"{API}/auth/register",
                readme_json(
                    '{"email": "ada@example.com", "password": "Long-Secret-Phrase-9", "full_name": "Ada Lovelace"}'
                ),
                format="json",
            ),
            202,
        )
    assert set(body) == {"detail"}
    # The account logs in once the welcome email's link confirms the address.
    refused = anon.post(
        f"{API}/auth/login",
        readme_json('{"email": "ada@example.com", "password": "Long-Secret-Phrase-9"}'),
        format="json",
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == readme_text("email_not_verified")
    readme_text("$FRONTEND_URL/verify-email?uid=<uid>&token=<token>")
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/verify-email?" in line)
    query = parse_qs(urlsplit(link.strip()).query)
    body = readme_json('{"uid": "<uid>", "token": "<token>", "password": "Long-Secret-Phrase-9"}') | {
        "uid": query["uid"][0],
        "token": query["token"][0],
    }
    ok(anon.post(f"{API}/auth/verify-email", body, format="json"), 204)
    tokens = ok(
        anon.post(
            f"{API}/auth/login",
            readme_json('{"email": "ada@example.com", "password": "Long-Secret-Phrase-9"}'),
            format="json",
        )
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert ok(client.get(f"{API}/auth/me"))["full_name"] == "Ada Lovelace"
    readme_text("""-d '{"refresh": "<refresh>"}'   # rotates""")
    rotated = ok(anon.post(f"{API}/auth/refresh", {"refresh": tokens["refresh"]}, format="json"))
    assert rotated["refresh"] != tokens["refresh"]
    ok(client.post(f"{API}/auth/logout", {"refresh": rotated["refresh"]}, format="json"), 204)
    readme_text("its access token is refused from the next request")
    ok(client.get(f"{API}/auth/me"), 401)
    again = ok(
        anon.post(
            f"{API}/auth/login",
            {"email": "ada@example.com", "password": "Long-Secret-Phrase-9"},
            format="json",
        )
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {again['access']}")
    readme_text("$API/auth/logout-all")
    ok(client.post(f"{API}/auth/logout-all"), 204)
    ok(client.get(f"{API}/auth/me"), 401)


def test_bootcamps_and_enrollments(demo):
    query = readme_text("status=PUBLISHED&start_after=$(date -u +%F)&ordering=price&search=web")
    query = query.replace("$(date -u +%F)", timezone.now().date().isoformat())
    found = ok(APIClient().get(f"{API}/bootcamps/?{query}"))["results"]
    assert found and all("web" in row["title"].lower() for row in found), found  # something to see

    # "A student enrolls": student@ in a bootcamp with seats they aren't in yet.
    student = log_in("student@cohortly.dev")
    bootcamp = next(
        b
        for b in ok(student.get(f"{API}/bootcamps/?status=PUBLISHED"))["results"]
        if b["seats_left"] > 0
        and not Enrollment.objects.filter(bootcamp=b["id"], student__email="student@cohortly.dev").exists()
    )
    detail = ok(student.get(f"{API}/bootcamps/{bootcamp['id']}/"))
    assert detail["seats_left"] == bootcamp["seats_left"]
    body = readme_json('{"bootcamp": 3}') | {"bootcamp": bootcamp["id"]}
    enrollment = ok(student.post(f"{API}/enrollments/", body, format="json"), 201)
    assert enrollment["status"] == "ACTIVE" and enrollment["waitlist_position"] is None

    readme_text("$API/enrollments/63/cancel")
    assert ok(student.post(f"{API}/enrollments/{enrollment['id']}/cancel"))["status"] == "CANCELLED"

    # "Staff: ADMIN or the bootcamp's INSTRUCTOR": instructor@ completes a student of theirs.
    active = Enrollment.objects.filter(bootcamp=running_bootcamp(), status="ACTIVE").first()
    body = readme_json('{"status": "COMPLETED"}')
    changed = ok(
        log_in("instructor@cohortly.dev").post(f"{API}/enrollments/{active.pk}/status", body, format="json")
    )
    assert changed["status"] == "COMPLETED"


def test_assignments_and_grading(demo):
    bootcamp = running_bootcamp()
    instructor, mentor = log_in("instructor@cohortly.dev"), log_in("mentor@cohortly.dev")

    # The due date is spliced in by the shell, six weeks from the day it runs.
    readme_text("DUE=$(date -u -d '+6 weeks' +%Y-%m-%dT18:00:00Z)")
    sent = readme_text(
        """-d '{"bootcamp": 3, "title": "Build a REST API", "description": "…", "due_at": "'$DUE'", """
        """"max_score": "100", "is_published": true}'"""
    )
    due = (timezone.now() + datetime.timedelta(weeks=6)).strftime("%Y-%m-%dT18:00:00Z")
    body = json.loads(sent[4:-1].replace("'$DUE'", due))
    assignment = ok(
        instructor.post(f"{API}/assignments/", body | {"bootcamp": bootcamp.pk}, format="json"), 201
    )

    # student@ attends the running bootcamp and hands in.
    student = log_in("student@cohortly.dev")
    body = readme_json('{"content": "My answer", "link": "https://github.com/ada/api"}')
    submission = ok(
        student.post(f"{API}/assignments/{assignment['id']}/submissions/", body, format="json"), 201
    )

    grade = readme_json('{"score": "8.5", "feedback": "Clean design."}')
    graded = ok(mentor.post(f"{API}/submissions/{submission['id']}/grade/", grade, format="json"))
    assert Decimal(graded["score"]) == Decimal(grade["score"])

    # The example fits every demo assignment's max_score, as the README says.
    max_scores = set(Assignment.objects.exclude(pk=assignment["id"]).values_list("max_score", flat=True))
    assert {
        Decimal(s) for s in re.findall(r"\d+", readme_text("(10, 20, 50 or 100 in the demo)"))
    } == max_scores
    assert Decimal(grade["score"]) <= min(max_scores)
    ungraded = Submission.objects.filter(assignment__bootcamp=bootcamp, score__isnull=True).first()
    assert ungraded is not None, "the demo has ungraded work in the running bootcamp"
    graded = ok(mentor.post(f"{API}/submissions/{ungraded.pk}/grade/", grade, format="json"))
    assert Decimal(graded["score"]) == Decimal(grade["score"])
    # Graded with the submitted_at the grader read: work handed in again since is refused.
    seen = ok(mentor.get(f"{API}/submissions/{ungraded.pk}/"))["submitted_at"]
    Submission.objects.filter(pk=ungraded.pk).update(
        submitted_at=F("submitted_at") + datetime.timedelta(seconds=5)
    )
    refused = mentor.post(
        f"{API}/submissions/{ungraded.pk}/grade/",
        {**grade, readme_text('"submitted_at"')[1:-1]: seen},
        format="json",
    )
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == readme_text(
        "handed_in_again"
    )
    too_high = {**grade, "score": str(ungraded.assignment.max_score + 1)}
    error = mentor.post(f"{API}/submissions/{ungraded.pk}/grade/", too_high, format="json")
    assert error.status_code == 400 and error.json()["errors"][0]["code"] == readme_text("max_value")

    readme_text('"$API/bootcamps/2/gradebook/"')
    assert ok(instructor.get(f"{API}/bootcamps/{bootcamp.pk}/gradebook/"))
    readme_text('"$API/bootcamps/2/gradebook.csv"')
    csv = ok(instructor.get(f"{API}/bootcamps/{bootcamp.pk}/gradebook.csv"))
    assert csv["Content-Type"].startswith("text/csv")


@pytest.mark.django_db(reset_sequences=True)
def test_the_ids_the_readme_quotes_are_the_fresh_demos(demo):
    """The README's curl examples name demo records by id: on a fresh demo they
    are what it says."""
    answer = re.search(r'# 201 \{"id": (\d+), "status": "WAITLISTED", "waitlist_position": (\d+),', README)
    assert answer, "README.md no longer shows ada's enrollment answer"
    enrollment_id, position = map(int, answer.groups())
    readme_text(f"$API/enrollments/{enrollment_id}/cancel")
    full = Bootcamp.objects.get(pk=3)
    readme_text("the demo's student@ already waits for bootcamp 3")
    assert Enrollment.objects.get(student__email="student@cohortly.dev", bootcamp=full).status == "WAITLISTED"
    from accounts.tests.factories import StudentFactory
    from enrollments.services import enrollment_create

    ada = enrollment_create(student=StudentFactory(), bootcamp=full, notify=False)
    assert (ada.pk, ada.status) == (enrollment_id, "WAITLISTED")
    waiting = list(full.enrollments.filter(status="WAITLISTED").order_by("waitlist_seq"))
    assert waiting.index(ada) + 1 == position

    readme_text("In the demo, 10 is an ACTIVE seat in bootcamp 2, which has started")
    ten = Enrollment.objects.get(pk=10)
    assert ten.status == "ACTIVE" and ten.bootcamp == running_bootcamp() and ten.bootcamp.pk == 2
    assert ten.bootcamp.start_date <= timezone.localdate()
    readme_text("the demo's leads go up to 320, so she is 321 on a fresh demo")
    from leads.models import Lead

    assert Lead.objects.order_by("-pk").first().pk == 320


def test_leads(demo):
    bootcamp = Bootcamp.objects.filter(status=Bootcamp.Status.PUBLISHED).order_by("start_date").last()
    body = readme_json(
        '{"full_name": "Grace Hopper", "email": "grace@example.com", "phone": "+1 555 0100", '
        '"source": "WEBSITE", "bootcamp": 3, "message": "Evening classes?"}'
    )
    created = ok(APIClient().post(f"{API}/leads/", body | {"bootcamp": bootcamp.pk}, format="json"), 201)
    assert set(created) == {"detail"}  # no id for the public: the sales team finds the lead

    sales = log_in("sales@cohortly.dev")
    query = readme_text("search=grace&status=NEW&ordering=status&ordering=-created_at")
    found = ok(sales.get(f"{API}/leads/?{query}"))["results"]
    assert [row["email"] for row in found] == ["grace@example.com"]
    readme_text("owner=unassigned (the form's lead: nobody owns it yet)")
    found = ok(sales.get(f"{API}/leads/?{query}&owner=unassigned"))["results"]
    assert [row["email"] for row in found] == ["grace@example.com"]
    lead = found[0]["id"]

    readme_text("WHEN=$(date -u -d tomorrow +%Y-%m-%dT09:00:00Z)")
    tomorrow = f"{datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1):%Y-%m-%d}T09:00:00Z"
    body = json.loads(
        readme_text("""'{"status": "CONTACTED", "next_follow_up_at": "'$WHEN'"}'""")[1:-1].replace(
            "'$WHEN'", tomorrow
        )
    )
    patched = ok(sales.patch(f"{API}/leads/{lead}/", body, format="json"))
    assert patched["status"] == "CONTACTED" and patched["next_follow_up_at"].startswith(tomorrow[:10])
    note = readme_json('{"body": "Called: wants the January cohort."}')
    ok(sales.post(f"{API}/leads/{lead}/notes/", note, format="json"), 201)
    activities = ok(sales.get(f"{API}/leads/{lead}/activities/"))
    assert note["body"] in json.dumps(activities)

    body = readme_json('{"bootcamp": 3}') | {"bootcamp": bootcamp.pk}
    converted = ok(sales.post(f"{API}/leads/{lead}/convert/", body, format="json"))
    assert converted["status"] == "CONVERTED"
    assert converted["converted_enrollment"]["status"] in ("ACTIVE", "WAITLISTED")

    query = readme_text("export.csv?status=QUALIFIED")
    assert ok(sales.get(f"{API}/leads/{query}"))["Content-Type"].startswith("text/csv")
