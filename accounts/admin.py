from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services
from accounts.models import User, normalize_email
from accounts.selectors import users_search
from accounts.signals import user_still_holds
from cohortly.admin import (
    ChangedSinceShownMixin,
    CompactChangelist,
    DeleteBlockersExplained,
    HiddenFieldsNotFilterable,
    SearchAtMostMaxTerms,
    ServiceErrorsMixin,
    short_date,
)
from mail.admin import EmailDeliverabilityAdminMixin
from mail.selectors import suppression_for


def _not_deliverable(email: str) -> str:
    return (
        f"Not sent: {email} is on the suppression list (it bounced or reported spam). Remove it there "
        "(Mail → Suppressed addresses) once the person confirms it works, then send the link again."
    )


class UserCreationForm(forms.ModelForm):
    """A new account: with a password the ADMIN sets (and vouches for the
    address), or, left empty, an invitation by email to set one."""

    password1 = forms.CharField(
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        required=False,
        help_text="Leave both empty to email an invitation: the person sets their own password with its "
        "link, which also confirms their address.",
    )
    password2 = forms.CharField(
        label="Password (again)",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        required=False,
    )

    class Meta:
        model = User
        fields = ["email", "full_name", "phone", "role", "is_active"]

    def clean_email(self):
        # One clear error when the address is taken, in any letter case: the
        # field's unique check and the case-insensitive constraint's
        # (accounts_user_email_ci_unique) would each add theirs, one of them
        # naming the constraint. (An account's email is read-only once made.)
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("A user with this email address already exists.", code="unique")
        return email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and not p2:
            self.add_error("password2", "Type the password again, or leave both empty to send an invitation.")
        elif p2 and not p1:
            self.add_error(
                "password1", "Type the password here too, or leave both empty to send an invitation."
            )
        elif p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            probe = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class UserChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["email", "full_name", "phone", "role", "is_active"]


class EmailVerifiedFilter(admin.SimpleListFilter):
    title = "email verified"
    parameter_name = "email_verified"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(email_verified_at__isnull=self.value() == "no")
        return queryset


@admin.register(User)
class UserAdmin(
    SearchAtMostMaxTerms,
    HiddenFieldsNotFilterable,
    CompactChangelist,
    DeleteBlockersExplained,
    ChangedSinceShownMixin,
    EmailDeliverabilityAdminMixin,
    ServiceErrorsMixin,
    admin.ModelAdmin,
):
    # Enrollments, leads, coursework and timeline entries refer to people (user_delete).
    delete_instead = (
        "Deactivate the account instead (untick Active): the person can't sign in, "
        "and what refers to them stays on record."
    )
    unfilterable = ("password", "ended_sessions")
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    # What a row needs on a laptop beside the filters (an undeliverable address is
    # marked beside it); the rest is on the user's page.
    list_display = ["email_with_delivery", "full_name", "role", "active", "email_verified", "last_seen"]
    list_display_links = ["email_with_delivery"]
    list_filter = ["role", "is_active", EmailVerifiedFilter]
    search_fields = ["email", "full_name", "phone"]
    ordering = ["email"]
    # Read-only: an address is proven by a link sent to it (the welcome email's,
    # or a set-password link), never by staff taking someone's word for it.
    readonly_fields = [
        "id",
        # Shown, not changed here: an address is proven by a link sent to it.
        "email",
        "email_delivery",
        "email_verification",
        "last_login",
        "created_at",
        "updated_at",
        "password_link",
    ]

    actions = ["end_sessions", "send_password_links"]

    @admin.action(description="Email selected users a link to set their password")
    def send_password_links(self, request, queryset):
        """An invitation again to whoever never set a password (a lost or expired
        link), a set-password link to the others; the inactive and the
        undeliverable get nothing, and the message says so. Asks first: an
        email can't be taken back."""
        asked = self.confirmed(
            request,
            queryset.order_by("email"),
            title="Email a link to set a password",
            consequences=[
                "Each selected active user is emailed a link to set a password (an invitation again to "
                "whoever never set one); their current password keeps working until they use it.",
            ],
            submit="Send the links",
            describe=lambda user: (
                f"{user.full_name or user.email} <{user.email}>"
                + ("" if user.is_active else " (deactivated: gets nothing)")
            ),
        )
        if asked is not None:
            return asked
        sent, inactive, suppressed = [], [], []
        for user in queryset.order_by("email"):
            refused = services.user_send_password_link(user=user, sent_by=request.user)
            if refused is None:
                self.log_change(request, user, "Emailed a link to set a password (action).")
            {
                None: sent,
                services.LINK_NOT_SENT_INACTIVE: inactive,
                services.LINK_NOT_SENT_SUPPRESSED: suppressed,
            }[refused].append(user)
        if sent:
            self.message_user(
                request,
                ngettext(
                    "A link to set a password went to %(emails)s.",
                    "Links to set a password went to %(emails)s.",
                    len(sent),
                )
                % {"emails": ", ".join(user.email for user in sent)},
                messages.SUCCESS,
            )
        for user in inactive:
            # Activating one that never had a password emails its invitation (user_update).
            then = (
                "activating it emails the invitation"
                if services.user_awaits_invitation(user)
                else "activate the account first"
            )
            self.message_user(request, f"Not sent: {user.email} is deactivated ({then}).", messages.ERROR)
        for user in suppressed:
            self.message_user(request, _not_deliverable(user.email), messages.ERROR)

    @admin.action(description="Log selected users out of every device")
    def end_sessions(self, request, queryset):
        """For an account that may be compromised: every token it holds, access
        and refresh, stops working on its next request (the password stays)."""
        asked = self.confirmed(
            request,
            queryset.order_by("email"),
            title="Log out of every device",
            consequences=[
                "Every session of each selected user ends: the apps, the sales pages and the back office "
                "ask them to sign in again (with the same password) on their next request.",
                "Yours too, if you are among them, except this browser.",
            ],
            submit="Log them out",
            describe=lambda user: f"{user.full_name or user.email} <{user.email}>, {user.get_role_display()}",
        )
        if asked is not None:
            return asked
        users = list(queryset)
        for user in users:
            services.user_logout_all(user=user)
            self.log_change(request, user, "Logged out of every device (action).")
        if any(user.pk == request.user.pk for user in users):
            # Yourself among them: every other device of yours is signed out, not
            # this page, as when you set your own password here.
            request.user.refresh_from_db()
            update_session_auth_hash(request, request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d user was logged out of every device.",
                "%(count)d users were logged out of every device.",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["email", "full_name", "phone", "role", "is_active", "password1", "password2"]
        return [
            "id",
            "email",
            "email_delivery",
            "email_verification",
            "full_name",
            "phone",
            "role",
            "is_active",
            "password_link",
            "last_login",
            "created_at",
            "updated_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    @admin.display(description="Verified", boolean=True, ordering="email_verified_at")
    def email_verified(self, obj):
        return obj.email_verified

    @admin.display(description="Active", boolean=True, ordering="is_active")
    def active(self, obj):
        return obj.is_active

    @admin.display(description="Last login", ordering="last_login")
    def last_seen(self, obj):
        return short_date(obj.last_login)

    @admin.display(description="Email verified")
    def email_verification(self, obj):
        if obj.email_verified_at is not None:
            # As the admin shows every date and time (a method's value is shown as str()).
            return formats.localize(timezone.template_localtime(obj.email_verified_at))
        return (
            "Not yet: nobody has proven this address belongs to the account, so it logs in nowhere. "
            "A link sent to the address proves it: the welcome email's, or a set-password link "
            "(“Forgot your password?”, or the user list's action “Email selected users a link to set "
            "their password”)."
        )

    @admin.display(description="Password")
    def password_link(self, obj):
        url = reverse("admin:accounts_user_password_change", args=[obj.pk])
        return format_html('<a href="{}">Set a new password</a>', url)

    def get_urls(self):
        return [
            path(
                "<id>/password/",
                self.admin_site.admin_view(self.user_change_password),
                name="accounts_user_password_change",
            ),
            *super().get_urls(),
        ]

    @method_decorator(sensitive_post_parameters())
    def user_change_password(self, request, id):
        """Set a user's password with Django's admin form and page; the new
        password is stored by the service, which logs every device out."""
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404("No such user.")
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        if user.pk == request.user.pk:
            # Your own: the page that asks for the current password and counts the
            # attempts (a session left open must not be enough to take the account).
            return HttpResponseRedirect(reverse("admin:password_change"))
        form = self.change_password_form(user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            keep_usable = form.cleaned_data["set_usable_password"]
            if not keep_usable and "unset-password" not in request.POST:
                # "Disable" chosen but the "Change password" button pressed (no JavaScript).
                self.message_user(request, "Conflicting form data; please try again.", messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())
            password = form.cleaned_data["password1"] if keep_usable else None
            confirmed = services.user_set_password_by_admin(user=user, password=password)
            self.log_change(request, user, "Changed password." + (" Address confirmed." if confirmed else ""))
            said = "Password changed." if keep_usable else "Password-based authentication was disabled."
            if keep_usable and not user.is_active:
                said += " The account is deactivated: they can sign in with it once it is active again."
            elif confirmed:
                said += " The address counts as confirmed now, so they can sign in with it."
            self.message_user(request, said, messages.SUCCESS)
            update_session_auth_hash(request, user)  # an admin changing their own stays signed in
            return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Change password: {user.email}",
            "form": form,
            "opts": self.opts,
            "original": user,
        }
        return TemplateResponse(request, "admin/auth/user/change_password.html", context)

    def has_delete_permission(self, request, obj=None):
        # No delete button on your own account (user_delete refuses it anyway).
        if obj is not None and obj.pk == request.user.pk:
            return False
        return super().has_delete_permission(request, obj)

    def get_search_results(self, request, queryset, search_term):
        # As the users API searches (accounts.selectors.users_search).
        if not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        if self.search_refused(request, search_term):
            return queryset.none(), False
        return users_search(queryset, search_term), False

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # What the database would cascade away but must stay (user_delete refuses it).
        found = services.user_delete_blockers([obj.pk for obj in objs])
        blockers = [f"Deleting would erase {blocker}." for blocker in found]
        if blockers:
            kept = [line for line in protected if line != self.delete_instead]
            protected = [*blockers, *kept, self.delete_instead]
        if any(obj.pk == request.user.pk for obj in objs):
            # Not a permission someone else has: nobody deletes their own account.
            perms_needed = set(perms_needed) - {str(self.opts.verbose_name)}
            # Nor deactivate it (own_account): no advice to do so.
            kept = [line for line in protected if line != self.delete_instead]
            protected = ["You can't delete your own account.", *kept]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        services.user_delete(actor=request.user, users=[obj])

    def delete_queryset(self, request, queryset):
        services.user_delete(actor=request.user, users=list(queryset))

    def save_model(self, request, obj, form, change):
        if change:
            deactivating = "is_active" in form.changed_data and not form.cleaned_data["is_active"]
            # Activating one invited while inactive emails its invitation (user_update).
            inviting = (
                "is_active" in form.changed_data
                and form.cleaned_data["is_active"]
                and services.user_awaits_invitation(obj)
            )
            services.user_update(
                actor=request.user,
                user=obj,
                # Only what was changed on the page (ChangedSinceShownMixin).
                data={
                    field: form.cleaned_data[field]
                    for field in ["full_name", "phone", "role", "is_active"]
                    if field in form.changed_data
                },
                # Checked again under the service's locks, which the admin can't take first.
                shown=form.shown,
            )
            if deactivating:
                self._say_what_they_still_hold(request, obj)
            if inviting:
                self._say_invited(request, obj)
        else:
            created = services.user_add(
                added_by=request.user,
                password=form.cleaned_data["password1"],
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                phone=form.cleaned_data.get("phone", ""),
                role=form.cleaned_data["role"],
                is_active=form.cleaned_data.get("is_active", True),
            )
            if not form.cleaned_data["password1"]:  # invited
                if not created.is_active:
                    said = (
                        f"Not invited yet: {created.email} is deactivated; "
                        "activating it emails the invitation."
                    )
                    self.message_user(request, said, messages.WARNING)
                else:
                    self._say_invited(request, created)
            obj.pk = created.pk
            obj._state.adding = False
            obj._state.db = created._state.db

    def _say_invited(self, request, user) -> None:
        if suppression_for(user.email) is not None:
            self.message_user(request, _not_deliverable(user.email), messages.WARNING)
        else:
            said = f"An invitation to set a password went to {user.email}."
            self.message_user(request, said, messages.INFO)

    def _say_what_they_still_hold(self, request, user) -> None:
        """A deactivation is never refused; what the user leaves behind in the
        other apps (accounts.signals.user_still_holds) is said, to hand it on."""
        for _receiver, sentence in user_still_holds.send(sender=User, user=user):
            if sentence:
                self.message_user(request, sentence, messages.WARNING)


# Roles replace Django's groups and per-user permissions.
admin.site.unregister(Group)
# Refresh tokens are the API's bookkeeping (logout, rotation, flushexpiredtokens),
# not staff's, and simplejwt's admin would let staff add blacklist rows by hand.
# Staff log a user out everywhere with the user list's action (or by setting a
# password, or deactivating them): accounts.services.user_logout_all.
admin.site.unregister([OutstandingToken, BlacklistedToken])
