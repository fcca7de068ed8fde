from django.urls import re_path

from accounts.api import views

# Each path matches with or without its trailing slash.
auth_urlpatterns = [
    re_path(r"^register/?$", views.RegisterView.as_view(), name="auth-register"),
    re_path(r"^login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^refresh/?$", views.RefreshView.as_view(), name="auth-refresh"),
    re_path(r"^logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^logout-all/?$", views.LogoutAllView.as_view(), name="auth-logout-all"),
    re_path(r"^password/change/?$", views.PasswordChangeView.as_view(), name="auth-password-change"),
    re_path(r"^password/reset/?$", views.PasswordResetRequestView.as_view(), name="auth-password-reset"),
    re_path(
        r"^password/reset/confirm/?$",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    re_path(r"^verify-email/?$", views.VerifyEmailView.as_view(), name="auth-verify-email"),
    re_path(r"^me/?$", views.MeView.as_view(), name="auth-me"),
]
