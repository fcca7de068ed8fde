"""The sales workspace in a real browser (Debian's Chromium through Playwright)
against a live server: a sales rep's morning, asserting what each page shows.
Screenshots at laptop and phone widths land in test-artifacts/."""

import datetime
import re

import pytest
from django.utils import timezone

from accounts.tests.factories import DEFAULT_PASSWORD, StudentFactory
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from leads.models import Lead, LeadActivity
from leads.services import lead_capture
from leads.tests.conftest import PHONE
from leads.tests.factories import BootcampFactory, LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def workspace(transactional_db, sales_user, make_user):
    """Bootcamps (one full) and a pipeline of leads, one of them Nora's."""
    olga = make_user("SALES", full_name="Olga Other", email="olga@example.com")
    web = BootcampFactory(title="Full-Stack Web", capacity=12)
    full = BootcampFactory(title="UX Design", capacity=1)
    enrollment_create(student=StudentFactory(), bootcamp=full)
    now = timezone.now()
    nora, _ = lead_capture(
        full_name="Nora Lind",
        email="nora@example.org",
        phone="+46 70 123 45 67",
        source=Lead.Source.REFERRAL,
        message="Do you have evening classes?",
        bootcamp=web,
    )
    names = [
        "Alice Alder",
        "Bob Birch",
        "Cara Cedar",
        "Dan Dogwood",
        "Eve Elm",
        "Finn Fir",
        "Gia Gum",
        "Hal Hazel",
    ]
    statuses = [Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.QUALIFIED, Lead.Status.NEW]
    sources = list(Lead.Source.values)
    for index, name in enumerate(names):
        LeadFactory(
            full_name=name,
            email=f"{name.split()[0].lower()}@example.org",
            status=statuses[index % len(statuses)],
            source=sources[index % len(sources)],
            owner=[sales_user, olga, None][index % 3],
            bootcamp=[web, full, None][index % 3],
            next_follow_up_at=now + datetime.timedelta(days=index - 3) if index % 2 == 0 else None,
        )
    LeadFactory(
        full_name="Ida Ivy", status=Lead.Status.LOST, lost_reason="Moved abroad", source=Lead.Source.ADS
    )
    return {"nora": nora, "web": web, "full": full, "sales": sales_user}


def log_in(page, email, password=DEFAULT_PASSWORD):
    """Keyboard only: the email field has focus, Tab to the password, Enter."""
    from playwright.sync_api import expect

    page.goto(page.base_url + "/sales/")
    assert "/sales/login/" in page.url
    # Type only once the page has put the focus in the email field: keys sent
    # earlier (a busy machine) would land nowhere.
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(page.base_url + "/sales/")


def test_a_sales_reps_morning(browser_page, workspace, screenshot, chromium):
    from playwright.sync_api import expect

    page = browser_page
    nora = workspace["nora"]

    # Log in: the login page has its own title and labelled fields.
    page.goto(page.base_url + "/sales/")
    expect(page).to_have_title("Sign in to the sales workspace · Cohortly")
    expect(page.get_by_label("Email")).to_be_focused()
    log_in(page, "sales@example.com")

    # The list: every lead, counts per status as tabs, the signed-in user.
    expect(page).to_have_title("Leads · Cohortly")
    expect(page.locator(".user-menu")).to_contain_text("Sam Sales")
    expect(page.locator(".lead-table tbody tr")).to_have_count(10)
    expect(page.locator(".tabs")).to_contain_text("All 10")
    expect(page.locator(".tabs")).to_contain_text("Lost 1")
    expect(page.locator(".lead-row--overdue").first).to_contain_text("Overdue")
    screenshot(page, "sales-list-1366")

    # Filter: a status tab, then a source and a search; the URL carries them all.
    page.get_by_role("link", name=re.compile(r"^New \d+")).click()
    expect(page).to_have_url(re.compile(r"status=NEW"))
    expect(page.locator(".lead-table .badge")).to_have_text(
        ["New"] * page.locator(".lead-table .badge").count()
    )
    page.get_by_label("Source").select_option("REFERRAL")
    page.get_by_label("Search").fill("lind")
    page.get_by_label("Search").press("Enter")
    expect(page).to_have_url(re.compile(r"search=lind"))
    assert "source=REFERRAL" in page.url and "status=NEW" in page.url
    expect(page.locator(".lead-table tbody tr")).to_have_count(1)
    expect(page.locator(".result-summary")).to_have_text(
        re.compile(r"Showing 1–1 of 1 lead matching the filters")
    )
    export = page.get_by_role("link", name="Export CSV")
    assert "search=lind" in export.get_attribute("href") and "source=REFERRAL" in export.get_attribute("href")
    # Sorting by a header keeps the filters.
    page.get_by_role("link", name=re.compile("^Name")).click()
    expect(page).to_have_url(re.compile(r"ordering=full_name"))
    assert "search=lind" in page.url

    # Open the lead.
    page.get_by_role("link", name="Nora Lind").click()
    expect(page).to_have_title("Nora Lind · Lead · Cohortly")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nora Lind")
    expect(page.locator('a[href="mailto:nora@example.org"]')).to_be_visible()
    expect(page.locator('a[href="tel:+46701234567"]')).to_be_visible()
    expect(page.locator(".lead-header")).to_contain_text("Full-Stack Web")
    expect(page.locator(".lead-header")).to_contain_text("12 seats left")
    expect(page.locator(".timeline__list")).to_contain_text("Lead created")

    # Add a note: confirmation, and it tops the timeline.
    page.get_by_label("Note").fill("Called her: wants the evening class, sending the syllabus.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".messages")).to_contain_text("Note added.")
    expect(page.locator(".timeline__list li").first).to_contain_text("wants the evening class")
    expect(page.locator(".timeline__list li").first).to_contain_text("by Sam Sales")

    # Status: Lost asks for a reason (the field appears, the error sits beside it).
    reason = page.get_by_label("Reason it was lost")
    expect(reason).to_be_hidden()
    page.get_by_label("Status", exact=True).select_option("LOST")
    expect(reason).to_be_visible()
    page.get_by_role("button", name="Save status").click()
    expect(page.locator("#id_lost_reason_error")).to_have_text("Say why the lead was lost.")
    expect(page.get_by_label("Status", exact=True)).to_have_value("LOST")
    # Change of mind: she is a real prospect.
    page.get_by_label("Status", exact=True).select_option("CONTACTED")
    page.get_by_role("button", name="Save status").click()
    expect(page.locator(".messages")).to_contain_text("Status set to Contacted.")
    expect(page.locator(".lead-header .badge").first).to_have_text("Contacted")
    expect(page.locator(".timeline__list li").first).to_contain_text("Status changed")
    screenshot(page, "sales-lead-1366")

    # Convert into the full bootcamp: the form says plainly she'll be waitlisted.
    convert = page.locator("#convert_form")
    expect(convert).to_contain_text("Full: waitlist")
    option = convert.locator(f'option[value="{workspace["full"].pk}"]')
    expect(option).to_have_text(re.compile(r"UX Design · full: waitlist · starts .*"))
    page.get_by_label("Enroll in bootcamp").select_option(str(workspace["full"].pk))
    page.get_by_role("button", name="Convert").click()
    # It asks first, saying what happens: the waitlist, an email.
    expect(page).to_have_title("Convert Nora Lind? · Lead · Cohortly")
    expect(page.locator(".confirm")).to_contain_text(
        "They join its waitlist, and get a seat when one frees up."
    )
    screenshot(page, "sales-convert-confirm-1366")
    page.get_by_role("button", name="Convert and enroll").click()
    expect(page.locator(".messages")).to_contain_text("UX Design is full, so Nora Lind is on its waitlist")
    expect(page.locator(".lead-header .badge").first).to_have_text("Converted")
    expect(page.locator(".lead-header")).to_contain_text("On the waitlist")
    expect(page.locator(".timeline__list li").first).to_contain_text("Converted into UX Design (waitlisted)")
    nora.refresh_from_db()
    assert nora.status == Lead.Status.CONVERTED
    assert nora.converted_enrollment.status == Enrollment.Status.WAITLISTED
    assert LeadActivity.objects.filter(lead=nora, kind=LeadActivity.Kind.NOTE).count() == 1

    # The dashboard: figures first, an inline SVG chart, a period selector.
    page.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_title("Dashboard · Last 30 days · Cohortly")
    expect(page.locator(".kpi").first).to_contain_text("10")
    expect(page.locator(".kpi").nth(2)).to_contain_text("1")  # converted
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.locator("#funnel-chart-title")).to_have_text("Leads that reached each stage")
    expect(page.locator(".report").filter(has_text="Leads per owner")).to_contain_text("Olga Other")
    page.get_by_label("Period", exact=True).select_option("all")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"period=all"))
    expect(page).to_have_title("Dashboard · All time · Cohortly")
    screenshot(page, "sales-dashboard-1366")

    # The same pages on a phone: the table becomes cards.
    phone = chromium.new_context(
        viewport=PHONE, storage_state=page.context.storage_state(), timezone_id="Europe/Paris"
    )
    try:
        small = phone.new_page()
        small.goto(page.base_url + "/sales/")
        expect(small.locator(".lead-table thead")).to_be_hidden()
        first_card = small.locator(".lead-row").first
        expect(first_card.locator(".cell-status")).to_be_visible()
        expect(first_card.locator(".cell-source")).to_be_hidden()
        assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(small, "sales-list-390")
        small.goto(page.base_url + f"/sales/leads/{nora.pk}/")
        expect(small.get_by_role("heading", level=1)).to_have_text("Nora Lind")
        assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(small, "sales-lead-390")
        small.goto(page.base_url + "/sales/dashboard/")
        assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(small, "sales-dashboard-390")
    finally:
        phone.close()

    # Log out (a POST form in the header).
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/sales/login/$"))
    expect(page.locator(".messages")).to_contain_text("You are signed out.")


def test_keyboard_users_get_a_skip_link_and_visible_focus(browser_page, workspace):
    from playwright.sync_api import expect

    page = browser_page
    log_in(page, "sales@example.com")
    page.wait_for_load_state("load")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    expect(page.get_by_role("link", name="Skip to content")).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('brand')")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    # Tab on to the search box, type and press Enter: the list filters.
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "f-search":
            break
    page.keyboard.type("alder")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"search=alder"))
    expect(page.locator(".lead-table tbody tr")).to_have_count(1)


def test_a_student_is_refused_at_the_login_and_a_student_session_gets_the_403_page(
    browser_page, transactional_db, make_user
):
    from django.conf import settings
    from django.test import Client
    from playwright.sync_api import expect

    student = make_user("STUDENT", email="stella@example.com")
    page = browser_page
    page.goto(page.base_url + "/sales/login/")
    page.get_by_label("Email").fill("stella@example.com")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    with page.expect_response(page.base_url + "/sales/login/") as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 200  # the form again, as for a wrong password
    expect(page.locator(".form-errors")).to_have_text(
        "That email and password don't match an account. Check both and try again."
    )

    # A student's session made some other way (the test client here) is refused by the pages.
    client = Client()
    client.force_login(student)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": page.base_url}])
    with page.expect_response(page.base_url + "/sales/") as answer:
        page.goto(page.base_url + "/sales/")
    assert answer.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Access denied")
    expect(page).to_have_title("Access denied · Cohortly")
    expect(page.locator(".error-page")).to_have_css("text-align", "center")  # the site's stylesheet applies


def leave_by_the_breadcrumb_but_stay(page) -> list[str]:
    """Click the breadcrumb's Leads and answer "stay" to whatever the browser asks;
    the kinds of dialog it asked with."""
    asked = []

    def stay(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Leads").click()
    return asked


def test_a_typed_note_goes_with_the_next_action_and_leaving_with_one_asks_first(browser_page, workspace):
    """After a call the rep writes the note, picks Lost and a reason, and saves
    the status: both are saved. Leaving the page with a note still in the box
    asks first (the browser's own "leave this page?")."""
    from playwright.sync_api import expect

    page = browser_page
    nora = workspace["nora"]
    log_in(page, "sales@example.com")
    page.goto(page.base_url + f"/sales/leads/{nora.pk}/")
    page.get_by_label("Note").fill("Spoke for 20 minutes.\nThe price is the problem.")
    page.get_by_label("Status", exact=True).select_option("LOST")
    page.get_by_label("Reason it was lost").fill("Price")
    page.get_by_role("button", name="Save status").click()
    expect(page.locator(".messages")).to_contain_text("Status set to Lost. Your note was added too.")
    expect(page.get_by_label("Note")).to_have_value("")
    expect(page.locator(".timeline__list")).to_contain_text("The price is the problem.")
    nora.refresh_from_db()
    assert nora.status == Lead.Status.LOST
    assert (
        nora.activities.get(kind=LeadActivity.Kind.NOTE).body
        == "Spoke for 20 minutes.\nThe price is the problem."
    )

    # Leaving with a note typed: the browser asks, and staying keeps the text.
    page.get_by_label("Note").fill("Call her back in spring.")
    asked = leave_by_the_breadcrumb_but_stay(page)
    expect(page.get_by_label("Note")).to_have_value("Call her back in spring.")
    assert asked == ["beforeunload"]
    assert page.url.endswith(f"/sales/leads/{nora.pk}/")


def test_back_after_adding_a_note_shows_an_empty_box_so_the_next_action_doesnt_add_it_again(
    browser_page, workspace
):
    """Back after Add note reloaded the lead page and the browser put the added
    note back in its box; the next action (Save status) carried it along, and
    the note was on the timeline twice."""
    from playwright.sync_api import expect

    page = browser_page
    nora = workspace["nora"]
    log_in(page, "sales@example.com")
    page.goto(page.base_url + f"/sales/leads/{nora.pk}/")
    page.get_by_label("Note").fill("Left a voicemail.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".messages")).to_contain_text("Note added.")
    page.go_back()
    expect(page.locator(".timeline__list")).to_contain_text("Left a voicemail.")
    expect(page.get_by_label("Note")).to_have_value("")
    page.get_by_label("Status", exact=True).select_option("CONTACTED")
    page.get_by_role("button", name="Save status").click()
    expect(page.locator(".messages")).to_have_text("Status set to Contacted.")
    assert list(nora.activities.filter(kind=LeadActivity.Kind.NOTE).values_list("body", flat=True)) == [
        "Left a voicemail."
    ]


def test_a_half_typed_follow_up_is_not_sent_as_clearing_it(browser_page, workspace):
    """A date and time box whose time is half typed (or left out) is sent by the
    browser as "": saving it cleared the follow-up the rep meant to move. The
    browser now stops that form and says the box is incomplete."""
    from playwright.sync_api import expect

    page = browser_page
    nora = workspace["nora"]
    when = (timezone.now() + datetime.timedelta(days=3)).replace(second=0, microsecond=0)
    Lead.objects.filter(pk=nora.pk).update(next_follow_up_at=when)
    log_in(page, "sales@example.com")
    page.goto(page.base_url + f"/sales/leads/{nora.pk}/")
    box = page.get_by_label("Next follow-up")
    expect(box).not_to_have_value("")
    # Keyboard only: into the box, on to its hour, and rub the hour out.
    box.focus()
    for _ in range(3):
        page.keyboard.press("Tab")
    page.keyboard.press("Backspace")
    assert box.evaluate("box => box.validity.badInput")
    page.get_by_role("button", name="Save follow-up").click()
    assert box.evaluate("box => box.validationMessage")
    expect(page.locator(".messages")).to_have_count(0)
    nora.refresh_from_db()
    assert nora.next_follow_up_at == when
    assert not nora.activities.filter(kind=LeadActivity.Kind.FOLLOW_UP_CHANGE).exists()
    # The quick buttons don't read the box: they still work.
    page.get_by_role("button", name="Tomorrow 9:00").click()
    expect(page.locator(".messages")).to_contain_text("Follow-up set for")


def test_the_convert_page_holds_a_carried_note_and_leaving_it_another_way_asks(browser_page, workspace):
    """The note that came along with Convert is on the confirm page only: leaving
    by the breadcrumb dropped it without a word. Cancel brings it back to its box."""
    from playwright.sync_api import expect

    page = browser_page
    nora = workspace["nora"]
    log_in(page, "sales@example.com")
    page.goto(page.base_url + f"/sales/leads/{nora.pk}/")
    page.get_by_label("Note").fill("Paid the deposit.")
    page.get_by_label("Enroll in bootcamp").select_option(str(workspace["web"].pk))
    page.get_by_role("button", name="Convert").click()
    expect(page.locator(".confirm")).to_contain_text("Paid the deposit.")
    asked = leave_by_the_breadcrumb_but_stay(page)
    expect(page.locator(".confirm")).to_contain_text("Paid the deposit.")
    assert asked == ["beforeunload"]
    page.get_by_role("button", name="Log out").click()  # a submit too, but not this form's
    expect(page.locator(".confirm")).to_contain_text("Paid the deposit.")
    assert asked == ["beforeunload", "beforeunload"]
    page.get_by_role("button", name="Cancel").click()  # this form's: nothing to ask
    expect(page.get_by_label("Note")).to_have_value("Paid the deposit.")
    assert asked == ["beforeunload", "beforeunload"]
    nora.refresh_from_db()
    assert nora.status != Lead.Status.CONVERTED and not nora.activities.filter(kind=LeadActivity.Kind.NOTE)


def test_long_names_and_emails_wrap_on_a_phone(
    chromium, live_server, browser_settings, workspace, screenshot
):
    """A 50-character email without a hyphen and a one-word 35-character name:
    the phone's list card and the lead's page wrap them instead of scrolling
    the whole page sideways."""
    from playwright.sync_api import expect

    long_one = LeadFactory(
        full_name="Wolfeschlegelsteinhausenbergerdorff",
        email="alexandra.konstantinopoulou@universityhospital.org",
    )
    desk = chromium.new_context(viewport=PHONE, timezone_id="Europe/Paris")
    try:
        page = desk.new_page()
        page.base_url = live_server.url
        log_in(page, "sales@example.com")
        expect(page.get_by_role("link", name=long_one.full_name)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "sales-list-long-390")
        page.goto(page.base_url + f"/sales/leads/{long_one.pk}/")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "sales-lead-long-390")
    finally:
        desk.close()
