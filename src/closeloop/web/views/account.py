"""Sign in, sign out and password reset: Django's own views with this site's templates."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path

from closeloop.web.forms import OutboxPasswordResetForm
from closeloop.web.views.password_reset import ThrottledPasswordResetView

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path(
        "password-reset/",
        ThrottledPasswordResetView.as_view(
            template_name="web/password_reset.html",
            email_template_name="web/password_reset_email.txt",
            subject_template_name="web/password_reset_subject.txt",
            form_class=OutboxPasswordResetForm,
            # Links in emails start with SITE_URL, like every other link the system sends.
            extra_email_context={"site_url": settings.SITE_URL.rstrip("/")},
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="web/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="web/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="web/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]
