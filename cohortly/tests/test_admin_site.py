"""What the back office offers staff: refresh-token bookkeeping is hidden,
task results (what an operator checks when an email didn't go out) are there
to read and nothing more."""

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_token_blacklist_models_are_not_in_the_admin(admin_web):
    index = admin_web.get("/admin/").content.decode()
    assert "Blacklisted" not in index and "Outstanding" not in index and "token_blacklist" not in index
    for model in ("blacklistedtoken", "outstandingtoken"):
        for suffix in ("", "add/"):
            assert admin_web.get(f"/admin/token_blacklist/{model}/{suffix}").status_code == 404


def test_task_results_are_read_only(admin_web):
    index = admin_web.get("/admin/").content.decode()
    assert "/admin/django_tasks_database/dbtaskresult/" in index
    assert "/admin/django_tasks_database/dbtaskresult/add/" not in index
    changelist = admin_web.get("/admin/django_tasks_database/dbtaskresult/")
    assert changelist.status_code == 200
    assert not changelist.context["has_add_permission"]
    assert "/admin/django_tasks_database/dbtaskresult/add/" not in changelist.content.decode()
    assert admin_web.get("/admin/django_tasks_database/dbtaskresult/add/").status_code == 403
    actions = (
        changelist.context["action_form"].fields["action"].choices
        if changelist.context["action_form"]
        else []
    )
    assert "delete_selected" not in [name for name, _label in actions]


def test_a_task_result_page_cannot_be_changed(admin_web):
    result = DBTaskResult.objects.create(
        task_path="cohortly.emails.send_email_task",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after=timezone.now(),
    )
    page = admin_web.get(f"/admin/django_tasks_database/dbtaskresult/{result.pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert (
        admin_web.post(f"/admin/django_tasks_database/dbtaskresult/{result.pk}/change/", {}).status_code
        == 403
    )
    assert (
        admin_web.post(
            f"/admin/django_tasks_database/dbtaskresult/{result.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert DBTaskResult.objects.filter(pk=result.pk).exists()
