"""The back office at a laptop's width and on a phone: the enrollment, lead and
bootcamp changelists, on the demo data, as the demo ADMIN in Debian's Chromium. Each
row's key columns (status, date, owner) lie inside the viewport, without
scrolling sideways; screenshots land in test-artifacts/."""

import io
import re

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_USERS, demo_password
from leads.tests.conftest import LAPTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: A small laptop (1280 px; the sales pages are checked at 1366) and a phone.
VIEWPORTS = {"1280": {**LAPTOP, "width": 1280}, "390": PHONE}
ADMIN_EMAIL = next(email for email, _name, role in DEMO_USERS if role == "ADMIN")


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--without-debug", stdout=io.StringIO())


@pytest.fixture(params=list(VIEWPORTS), ids=[f"{size}px" for size in VIEWPORTS])
def admin_page(request, chromium, live_server, browser_settings, demo):
    """The demo ADMIN, logged in through the admin's login page."""
    context = chromium.new_context(
        viewport=VIEWPORTS[request.param], timezone_id="Europe/Paris", locale="en-GB"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    page.size = request.param
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(demo_password("ADMIN"))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    yield page
    context.close()


def box_of(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None and box["width"] > 0, locator
    return box


def assert_in_viewport(page, row, *columns):
    """Each column's cell in `row` is drawn whole inside the viewport's width,
    and inside the list's own box (which scrolls sideways what doesn't fit)."""
    results = box_of(page.locator("#changelist .results"))
    right = min(page.viewport_size["width"], results["x"] + results["width"])
    for column in columns:
        box = box_of(row.locator(f".field-{column}"))
        assert box["x"] >= max(0, results["x"]) and box["x"] + box["width"] <= right, (
            page.url,
            column,
            box,
            right,
        )


def assert_no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def open_changelist(page, path, name, screenshot):
    page.goto(f"{page.base_url}{path}")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() > 1
    screenshot(page, f"{name}-{page.size}")
    return rows


def test_the_back_office_fits_the_screen(admin_page, screenshot):
    page = admin_page
    on_phone = page.size == "390"

    # Enrollments: who, in what state (a waitlisted one says where in line), when.
    rows = open_changelist(
        page, "/admin/enrollments/enrollment/?status__exact=WAITLISTED", "admin-enrollments", screenshot
    )
    row = rows.first
    assert re.fullmatch(r"WAITLISTED #\d+", row.locator(".status-badge").inner_text())
    if on_phone:
        assert_in_viewport(page, row, "student_name", "status_badge")
        student, status = box_of(row.locator(".field-student_name")), box_of(row.locator(".status-badge"))
        assert abs(student["y"] - status["y"]) < student["height"], "the status is beside the student"
    else:
        assert_in_viewport(page, row, "student_name", "status_badge", "bootcamp", "enrolled")
    assert_no_sideways_scroll(page)

    # Leads: who, status, owner and dates on a laptop; who and status on a phone.
    rows = open_changelist(
        page,
        "/admin/leads/lead/?owner__isnull=False&next_follow_up_at__isnull=False",
        "admin-leads",
        screenshot,
    )
    row = rows.first
    assert row.locator(".status-badge").inner_text()
    if on_phone:
        assert_in_viewport(page, row, "full_name", "status_badge")
    else:
        assert_in_viewport(
            page, row, "full_name", "status_badge", "owner_name", "follow_up", "created", "bootcamp_title"
        )
    assert_no_sideways_scroll(page)

    # Bootcamps: every column on a laptop (the dates, seats and price each in one);
    # the title and status on a phone.
    rows = open_changelist(page, "/admin/bootcamps/bootcamp/", "admin-bootcamps", screenshot)
    row = rows.first
    assert row.locator(".status-badge").inner_text() in {"DRAFT", "PUBLISHED", "ARCHIVED"}
    assert re.fullmatch(r"\d+ / \d+\n(\d+ left|full)", row.locator(".field-seats").inner_text())
    if on_phone:
        assert_in_viewport(page, row, "title", "status_badge")
    else:
        assert_in_viewport(page, row, "title", "status_badge", "dates", "delivery", "seats", "price_shown")
    assert_no_sideways_scroll(page)

    # Submissions: who, what, the grade (or that it awaits one) and when, on a laptop.
    rows = open_changelist(page, "/admin/assignments/submission/", "admin-submissions", screenshot)
    row = rows.first
    columns = ["student_name", "assignment_title", "grade", "submitted", "bootcamp"]
    assert_in_viewport(page, row, *(columns if not on_phone else columns[:1]))
    assert_no_sideways_scroll(page)

    # Users and assignments: every column on a laptop (a long address breaks after its @).
    rows = open_changelist(page, "/admin/accounts/user/", "admin-users", screenshot)
    if not on_phone:
        columns = ["email_with_delivery", "full_name", "role", "active", "email_verified", "last_seen"]
        assert_in_viewport(page, rows.first, *columns)
    rows = open_changelist(page, "/admin/assignments/assignment/", "admin-assignments", screenshot)
    if not on_phone:
        assert_in_viewport(page, rows.first, "title", "bootcamp", "due", "published", "submission_count")
    assert_no_sideways_scroll(page)

    # Lead timelines: when, whose, what kind, by whom and how it starts, on a laptop.
    rows = open_changelist(page, "/admin/leads/leadactivity/", "admin-lead-activities", screenshot)
    if not on_phone:
        assert_in_viewport(page, rows.first, "when", "lead_name", "kind", "actor_name", "body_start")
    assert_no_sideways_scroll(page)

    # A new bootcamp has no seats to count yet.
    page.goto(f"{page.base_url}/admin/bootcamps/bootcamp/add/")
    screenshot(page, f"admin-bootcamp-add-{page.size}")
    assert page.get_by_label("Capacity").is_visible()
    assert page.get_by_text("Seats left").count() == 0
    assert_no_sideways_scroll(page)
