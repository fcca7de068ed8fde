"""The back office's site, apart from cohortly.admin's helpers: those are imported
by every app's admin (mail's too, which may not depend on accounts), and the
site's login needs accounts' forms."""

from django.contrib import admin

from accounts.forms import AdminLoginForm, throttled_login_response


class AdminSite(admin.AdminSite):
    """The back office (cohortly.apps.AdminConfig makes it django.contrib.admin.site).

    Its login counts password attempts against the limit the API's and the sales
    workspace's logins share (accounts.login_throttle), and answers 429 with
    Retry-After once it is spent."""

    login_form = AdminLoginForm

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        return throttled_login_response(response, form)
