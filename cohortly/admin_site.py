"""The back office's site, apart from cohortly.admin's helpers: those are imported
by every app's admin (mail's too, which may not depend on accounts), and the
site's login needs accounts' forms."""

import functools

from django.contrib import admin
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.auth.views import PasswordChangeView
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpResponseRedirect
from django.urls import reverse

from accounts.forms import AdminLoginForm, AdminOwnPasswordChangeForm, throttled_login_response


class OwnPasswordChangeView(PasswordChangeView):
    form_class = AdminOwnPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


#: The date parts a changelist's address may filter on (`?created_at__year=2026`,
#: as its date drill-down and a hand-edited link do), and the values each takes.
DATE_PARTS = {
    "year": (1, 9999),
    "iso_year": (1, 9999),
    "month": (1, 12),
    "day": (1, 31),
    "week": (1, 53),
    "week_day": (1, 7),
    "iso_week_day": (1, 7),
    "quarter": (1, 4),
    "hour": (0, 23),
    "minute": (0, 59),
    "second": (0, 59),
}
_COMPARISONS = {"exact", "gt", "gte", "lt", "lte"}


def _date_part_out_of_range(key: str, values: list[str]) -> bool:
    """Whether `key` filters on a date part (`created_at__year`, `..._year__gte`)
    with a value that isn't a whole number in that part's range."""
    parts = key.split(LOOKUP_SEP)
    if len(parts) > 2 and parts[-1] in _COMPARISONS:
        parts = parts[:-1]
    if len(parts) < 2 or parts[-1] not in DATE_PARTS:
        return False
    low, high = DATE_PARTS[parts[-1]]
    for value in values:
        try:
            number = int(value)
        except ValueError:
            return True
        if not low <= number <= high:
            return True
    return False


class AdminSite(admin.AdminSite):
    """The back office (cohortly.apps.AdminConfig makes it django.contrib.admin.site).

    Its login and its own-password page count password attempts against the
    limit the API's and the sales workspace's logins share
    (accounts.login_throttle), and answer 429 with Retry-After once it is
    spent; a password changed there ends every other session of the account."""

    login_form = AdminLoginForm

    def admin_view(self, view, cacheable=False):
        """Every admin page. A changelist filtered on a date part out of its
        range (`?created_at__year=0`) goes back to the unfiltered list with the
        admin's "invalid filter" flag (?e=1), as any bad lookup does: Django
        only turns such a year into a date when the list's query runs, where it
        was a 500."""
        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def checked(request, *args, **kwargs):
            if any(_date_part_out_of_range(key, values) for key, values in request.GET.lists()):
                return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
            return inner(request, *args, **kwargs)

        return checked

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        return throttled_login_response(response, form)

    def password_change(self, request, extra_context=None):
        # AdminSite.password_change with Cohortly's form: the same view and page.
        defaults = {
            "success_url": reverse("admin:password_change_done", current_app=self.name),
            "extra_context": {**self.each_context(request), **(extra_context or {})},
        }
        if self.password_change_template is not None:
            defaults["template_name"] = self.password_change_template
        request.current_app = self.name
        response = OwnPasswordChangeView.as_view(**defaults)(request)
        form = (getattr(response, "context_data", None) or {}).get("form")
        return throttled_login_response(response, form)
