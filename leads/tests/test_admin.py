"""Leads in the back office: the same services, the same timeline, no deleting."""

import csv
import io
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.models import User
from leads.models import Lead, LeadActivity
from leads.tests.factories import BootcampFactory, LeadActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db

Status = Lead.Status
Kind = LeadActivity.Kind
CHANGELIST = "admin:leads_lead_changelist"


def action(client, name, leads, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": name, ACTION_CHECKBOX_NAME: [lead.pk for lead in leads], **extra},
    )


def test_changelist_with_filters_and_search(admin_web, sales_user):
    bootcamp = BootcampFactory(title="Data Science")
    LeadFactory(full_name="Ana Lima", email="ana@example.org", owner=sales_user, bootcamp=bootcamp)
    LeadFactory(full_name="Bob Stone", status=Status.CONTACTED)
    response = admin_web.get(reverse(CHANGELIST))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ana Lima" in page and "Bob Stone" in page
    assert "Data Science" in page and "Sam Sales" in page  # filters by bootcamp and owner
    response = admin_web.get(reverse(CHANGELIST), {"q": "ana@example"})
    assert "Ana Lima" in response.content.decode() and "Bob Stone" not in response.content.decode()
    response = admin_web.get(reverse(CHANGELIST), {"status__exact": "CONTACTED"})
    assert "Bob Stone" in response.content.decode() and "Ana Lima" not in response.content.decode()


def test_changelist_rows_are_short_enough_for_a_laptop(admin_web, sales_user):
    LeadFactory(full_name="Ana Lima", email="ana@example.org", owner=sales_user, status=Status.QUALIFIED)
    page = admin_web.get(reverse(CHANGELIST)).content.decode()
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', page)
    assert headers == ["full_name", "status_badge", "owner_name", "follow_up", "created", "bootcamp_title"]
    assert '<span class="status-badge status-badge--qualified">Qualified</span>' in page
    assert '<td class="field-owner_name">Sam Sales</td>' in page
    assert '<th class="field-full_name"><a href="/admin/leads/lead/' in page


def test_non_admin_roles_cannot_enter(client, sales_user):
    client.force_login(sales_user)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_change_page_shows_the_read_only_timeline(admin_web, sales_user):
    lead = LeadFactory()
    LeadActivityFactory(lead=lead, kind=Kind.NOTE, body="Called twice, no answer", actor=sales_user)
    response = admin_web.get(reverse("admin:leads_lead_change", args=[lead.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Called twice, no answer" in page
    assert "activities-0-body" not in page  # rendered read-only, not as inputs
    assert 'id="activities-empty"' not in page  # no "add another" row
    assert 'name="activities-0-DELETE"' not in page


def test_change_form_goes_through_lead_update(admin_web, admin_user, sales_user):
    lead = LeadFactory(full_name="Ana", email="ana@example.org", phone="")
    response = admin_web.post(
        reverse("admin:leads_lead_change", args=[lead.pk]),
        {
            "full_name": "Ana Lima",
            "email": "ana@example.org",
            "phone": "+33 6 12 34 56 78",
            "source": "WEBSITE",
            "bootcamp": "",
            "owner": str(sales_user.pk),
            "next_follow_up_at_0": "",
            "next_follow_up_at_1": "",
            "activities-TOTAL_FORMS": "0",
            "activities-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lead.refresh_from_db()
    assert (lead.full_name, lead.phone, lead.owner) == ("Ana Lima", "+33 6 12 34 56 78", sales_user)
    assert sorted(lead.activities.values_list("kind", flat=True)) == [Kind.CONTACT_CHANGE, Kind.OWNER_CHANGE]
    assert set(lead.activities.values_list("actor", flat=True)) == {admin_user.pk}


def test_a_lead_whose_rep_was_deactivated_keeps_them_when_its_admin_form_is_saved(admin_web, make_user):
    """The owner select left them out, so it showed no owner, and saving any
    other change (a phone here) unassigned the lead without a word."""
    gone = make_user(User.Role.SALES, full_name="Gone Seller")
    lead = LeadFactory(email="ana@example.org", owner=gone, phone="")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    page = admin_web.get(url).content.decode()
    assert f'<option value="{gone.pk}" selected>Gone Seller (deactivated)</option>' in page
    form = {
        "full_name": lead.full_name,
        "email": lead.email,
        "phone": "+33 6 12 34 56 78",
        "source": lead.source,
        "owner": str(gone.pk),
        "activities-TOTAL_FORMS": "0",
        "activities-INITIAL_FORMS": "0",
    }
    assert admin_web.post(url, form).status_code == 302
    lead.refresh_from_db()
    assert (lead.phone, lead.owner) == ("+33 6 12 34 56 78", gone)
    assert not lead.activities.filter(kind=Kind.OWNER_CHANGE).exists()


@pytest.mark.parametrize("email", ["taken@example.org", "TAKEN@Example.org"])
def test_change_form_refuses_an_email_of_another_open_lead(admin_web, email):
    other = LeadFactory(email="taken@example.org")
    lead = LeadFactory(email="ana@example.org")
    response = admin_web.post(
        reverse("admin:leads_lead_change", args=[lead.pk]),
        {
            "full_name": lead.full_name,
            "email": email,
            "phone": "",
            "source": "WEBSITE",
            "activities-TOTAL_FORMS": "0",
            "activities-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert f"Another open lead (#{other.pk}) already has this email" in response.content.decode()
    lead.refresh_from_db()
    assert lead.email == "ana@example.org"


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("audit.lead@example.com", "AUDIT.Lead@example.com"),
        # One mailbox, either spelling of its internationalised domain.
        ("zoe@xn--exmple-cua.com", "zoe@exämple.com"),
    ],
)
def test_adding_a_lead_with_an_open_leads_email_in_another_case_is_refused(admin_web, stored, typed):
    # Not merged into the open lead behind an "added successfully".
    other = LeadFactory(email=stored)
    response = admin_web.post(
        reverse("admin:leads_lead_add"),
        {
            "full_name": "Audit Lead",
            "email": typed,
            "phone": "",
            "source": "WEBSITE",
            "activities-TOTAL_FORMS": "0",
            "activities-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    said = f"Another open lead (#{other.pk}) already has this email: nothing was added."
    assert said in response.content.decode()  # it said a submission was added to that lead
    assert Lead.objects.count() == 1 and not other.activities.filter(kind=Kind.SUBMISSION).exists()


def test_owner_choices_are_active_sales_and_admins(admin_web, sales_user, instructor_user, make_user):
    gone = make_user(User.Role.SALES, is_active=False)
    lead = LeadFactory()
    page = admin_web.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    assert f'value="{sales_user.pk}"' in page
    assert f'value="{instructor_user.pk}"' not in page
    assert f'value="{gone.pk}"' not in page


def test_add_goes_through_lead_capture(admin_web, admin_user):
    response = admin_web.post(
        reverse("admin:leads_lead_add"),
        {
            "full_name": "Walk In",
            "email": "Walk.In@example.org",
            "phone": "",
            "source": "EVENT",
            "message": "Met at the fair",
            "activities-TOTAL_FORMS": "0",
            "activities-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lead = Lead.objects.get()
    assert (lead.email, lead.source, lead.status) == ("walk.in@example.org", "EVENT", Status.NEW)
    created = lead.activities.get()
    assert created.kind == Kind.CREATED and created.actor == admin_user


def test_nothing_can_be_deleted(admin_web):
    lead = LeadFactory()
    entry = LeadActivityFactory(lead=lead)
    assert admin_web.get(reverse("admin:leads_lead_delete", args=[lead.pk])).status_code == 403
    assert (
        admin_web.post(reverse("admin:leads_lead_delete", args=[lead.pk]), {"post": "yes"}).status_code == 403
    )
    assert admin_web.get(reverse("admin:leads_leadactivity_delete", args=[entry.pk])).status_code == 403
    page = admin_web.get(reverse(CHANGELIST)).content.decode()
    assert "delete_selected" not in page
    response = action(admin_web, "delete_selected", [lead], post="yes")
    assert Lead.objects.filter(pk=lead.pk).exists() and LeadActivity.objects.filter(pk=entry.pk).exists()
    assert response.status_code in (200, 302)


def test_activities_are_read_only_in_their_own_admin(admin_web):
    entry = LeadActivityFactory(body="A note")
    assert admin_web.get(reverse("admin:leads_leadactivity_changelist")).status_code == 200
    assert admin_web.get(reverse("admin:leads_leadactivity_add")).status_code == 403
    response = admin_web.post(
        reverse("admin:leads_leadactivity_change", args=[entry.pk]), {"body": "Rewritten", "kind": "NOTE"}
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.body == "A note"


def test_action_mark_contacted(admin_web, admin_user):
    new = LeadFactory(full_name="New One")
    qualified = LeadFactory(full_name="Qualified One", status=Status.QUALIFIED)
    # Asked first: a lead never goes back to NEW.
    asked = action(admin_web, "mark_contacted", [new, qualified])
    assert asked.status_code == 200 and "never goes back" in asked.content.decode()
    assert Lead.objects.filter(status=Status.CONTACTED).count() == 0
    response = action(admin_web, "mark_contacted", [new, qualified], post="yes")
    assert response.status_code == 302
    new.refresh_from_db()
    qualified.refresh_from_db()
    assert new.status == Status.CONTACTED
    assert new.activities.get().actor == admin_user
    assert qualified.status == Status.QUALIFIED  # moving back is refused, and said so
    page = admin_web.get(response["Location"]).content.decode()
    assert "1 lead(s) marked as contacted." in page
    assert "Not changed: Qualified One" in page
    # Again: already so, neither counted nor put on the timeline or the History.
    response = action(admin_web, "mark_contacted", [new], post="yes")
    page = admin_web.get(response["Location"]).content.decode()
    assert f"Already marked as contacted: New One &lt;{new.email}&gt;." in page
    assert "marked as contacted." not in page.replace("Already marked as contacted", "")
    assert new.activities.count() == 1
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.filter(object_id=str(new.pk)).count() == 1


def test_action_mark_lost_asks_for_a_reason(admin_web):
    leads = [LeadFactory(), LeadFactory(status=Status.CONTACTED)]
    response = action(admin_web, "mark_lost", leads)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Why were they lost?" in page and leads[0].email in page
    response = action(admin_web, "mark_lost", leads, apply="1", lost_reason="")
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert Lead.objects.filter(status=Status.LOST).count() == 0
    response = action(admin_web, "mark_lost", leads, apply="1", lost_reason="Chose a competitor")
    assert response.status_code == 302
    for lead in leads:
        lead.refresh_from_db()
        assert (lead.status, lead.lost_reason) == (Status.LOST, "Chose a competitor")
        assert lead.activities.get().kind == Kind.STATUS_CHANGE


def test_mark_lost_over_select_all_past_djangos_field_limit(admin_web, settings):
    """Its form posted back one field per lead: past DATA_UPLOAD_MAX_NUMBER_FIELDS
    (1,000) Django refused it, and "select all" of many leads couldn't be marked
    lost. And the leads "all" stood for are the leads marked, not those of the
    second click."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 30
    leads = LeadFactory.create_batch(40)
    start = {"action": "mark_lost", "select_across": "1", "index": "0", ACTION_CHECKBOX_NAME: leads[0].pk}
    page = admin_web.post(reverse(CHANGELIST), start).content.decode()
    assert "40 leads selected" in page
    carried = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    late = LeadFactory()
    again = admin_web.post(reverse(CHANGELIST), {**carried, "apply": "1", "lost_reason": "No budget"})
    assert again.status_code == 200 and "41 leads selected" in again.content.decode()
    assert not Lead.objects.filter(status=Status.LOST).exists()
    carried = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', again.content.decode()))
    done = admin_web.post(reverse(CHANGELIST), {**carried, "apply": "1", "lost_reason": "No budget"})
    assert done.status_code == 302
    assert Lead.objects.filter(status=Status.LOST).count() == 41
    late.refresh_from_db()
    assert late.status == Status.LOST


def test_action_assign_owner(admin_web, sales_user, instructor_user):
    leads = [LeadFactory(), LeadFactory()]
    response = action(admin_web, "assign_owner", leads)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sam Sales" in page and "Iris Instructor" not in page
    response = action(admin_web, "assign_owner", leads, apply="1", owner=str(instructor_user.pk))
    assert response.status_code == 200  # not a choice: the form says so
    response = action(admin_web, "assign_owner", leads, apply="1", owner=str(sales_user.pk))
    assert response.status_code == 302
    for lead in leads:
        lead.refresh_from_db()
        assert lead.owner == sales_user
        assert lead.activities.get().kind == Kind.OWNER_CHANGE
    admin_web.get(response["Location"])  # its messages shown
    # The same owner again: nothing to change, and said so.
    response = action(admin_web, "assign_owner", leads[:1], apply="1", owner=str(sales_user.pk))
    page = admin_web.get(response["Location"]).content.decode()
    assert "Already assigned to Sam Sales: " in page and "lead(s) assigned" not in page
    assert leads[0].activities.count() == 1
    response = action(admin_web, "assign_owner", leads, apply="1", owner="")
    assert response.status_code == 302
    assert not Lead.objects.filter(owner__isnull=False).exists()
    page = admin_web.get(response["Location"]).content.decode()
    assert "2 lead(s) unassigned." in page
    history = admin_web.get(f"/admin/leads/lead/{leads[0].pk}/history/").content.decode()
    assert "Assigned to Sam Sales (action)." in history and "Unassigned (action)." in history


def test_action_export_csv(admin_web):
    chosen = LeadFactory(full_name="@SUM(A1)")
    LeadFactory(full_name="Not chosen")
    response = action(admin_web, "export_csv", [chosen])
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")  # for a spreadsheet
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][:2] == [str(chosen.pk), "'@SUM(A1)"]


def test_marking_lost_a_lead_already_lost_for_that_reason_is_named_not_counted(admin_web):
    from django.contrib.admin.models import LogEntry

    lost = LeadFactory(full_name="Lost One", status=Status.LOST, lost_reason="No budget")
    open_lead = LeadFactory(full_name="Open One")
    response = action(admin_web, "mark_lost", [lost, open_lead], apply="1", lost_reason="No budget")

    page = admin_web.get(response["Location"]).content.decode()
    assert f"Already marked as lost: Lost One &lt;{lost.email}&gt;." in page
    assert "1 lead(s) marked as lost." in page
    assert not LogEntry.objects.filter(object_id=str(lost.pk)).exists()
    assert LogEntry.objects.filter(object_id=str(open_lead.pk)).count() == 1


def test_marking_contacted_leaves_a_lost_lead_lost(admin_web):
    """The action is for open leads (its confirmation says so): a lost lead among
    those selected was reopened, its reason cleared, without anyone deciding to."""
    lost = LeadFactory(full_name="Lost One", status=Status.LOST, lost_reason="Chose a competitor")
    new = LeadFactory(full_name="New One")
    asked = action(admin_web, "mark_contacted", [lost, new]).content.decode()
    assert "Each selected open lead becomes CONTACTED" in asked

    response = action(admin_web, "mark_contacted", [lost, new], post="yes")

    lost.refresh_from_db()
    assert (lost.status, lost.lost_reason) == (Status.LOST, "Chose a competitor")
    assert not lost.activities.exists()
    new.refresh_from_db()
    assert new.status == Status.CONTACTED
    page = admin_web.get(response["Location"]).content.decode()
    assert "Not changed: Lost One" in page and "it is lost; reopen it from its page" in page
    assert "1 lead(s) marked as contacted." in page
