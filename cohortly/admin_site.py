"""The back office's site, apart from cohortly.admin's helpers: those are imported
by every app's admin (mail's too, which may not depend on accounts), and the
site's login needs accounts' forms."""

from django.contrib import admin
from django.contrib.auth.views import PasswordChangeView
from django.urls import reverse

from accounts.forms import AdminLoginForm, AdminOwnPasswordChangeForm, throttled_login_response


class OwnPasswordChangeView(PasswordChangeView):
    form_class = AdminOwnPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class AdminSite(admin.AdminSite):
    """The back office (cohortly.apps.AdminConfig makes it django.contrib.admin.site).

    Its login and its own-password page count password attempts against the
    limit the API's and the sales workspace's logins share
    (accounts.login_throttle), and answer 429 with Retry-After once it is
    spent; a password changed there ends every other session of the account."""

    login_form = AdminLoginForm

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
