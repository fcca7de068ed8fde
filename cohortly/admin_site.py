"""The back office's site, apart from cohortly.admin's helpers: those are imported
by every app's admin (mail's too, which may not depend on accounts), and the
site's login needs accounts' forms."""

import functools
import logging

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.auth.views import PasswordChangeView
from django.db import DataError
from django.http import HttpResponseRedirect
from django.urls import reverse

from accounts.forms import AdminLoginForm, AdminOwnPasswordChangeForm, throttled_login_response
from cohortly.middleware import loggable


class OwnPasswordChangeView(PasswordChangeView):
    form_class = AdminOwnPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class AutocompleteView(AutocompleteJsonView):
    """The autocomplete fields' search: a term with a NUL character matches
    nothing (PostgreSQL's text can't hold one: it was a 500)."""

    def get_queryset(self):
        if "\x00" in self.term:
            return self.model_admin.get_queryset(self.request).none()
        return super().get_queryset()


#: What a changelist's query raises, past Django's own check of its lookups,
#: for a value it can't hold: a year 0 or 10000 (`?created_at__year=0`, the
#: date drill-down's next year after 9999), a day whose midnight is outside
#: what UTC holds, a number the column's type can't.
UNUSABLE_LOOKUP = (ValueError, OverflowError, DataError)

logger = logging.getLogger("cohortly.admin")


class AdminSite(admin.AdminSite):
    """The back office (cohortly.apps.AdminConfig makes it django.contrib.admin.site).

    Its login and its own-password page count password attempts against the
    limit the API's and the sales workspace's logins share
    (accounts.login_throttle), and answer 429 with Retry-After once it is
    spent; a password changed there ends every other session of the account."""

    login_form = AdminLoginForm

    def admin_view(self, view, cacheable=False):
        """Every admin page; a changelist's filters in its address that its
        query can't use send it back to the unfiltered list with the admin's
        "invalid filter" flag (?e=1), as Django does for a lookup it refuses
        itself: they were a 500."""
        inner = super().admin_view(view, cacheable)
        if getattr(view, "__name__", "") != "changelist_view":
            return inner

        @functools.wraps(inner)
        def changelist(request, *args, **kwargs):
            try:
                response = inner(request, *args, **kwargs)
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()  # here, where its errors are this view's
                return response
            except UNUSABLE_LOOKUP as exc:
                # Without a filter in the address, or already flagged, it's a bug.
                if request.method != "GET" or not request.GET or ERROR_FLAG in request.GET:
                    raise
                # The parameters' names, not their values: a search is a name or an address.
                logger.warning(
                    "Changelist filter its query can't use: %s, filtered by %s (%s)",
                    loggable(request.path),
                    loggable(", ".join(sorted(request.GET))),
                    exc,
                )
                return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")

        return changelist

    def autocomplete_view(self, request):
        return AutocompleteView.as_view(admin_site=self)(request)

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
