"""Addresses of the loop app: the follow-up links in customers' emails and the retention report."""

from __future__ import annotations

from django.urls import path

from closeloop.loop import views

urlpatterns = [
    path("follow-up/<str:token>/<str:answer>", views.follow_up_answer, name="follow-up"),
    path("reports/retention/", views.retention_page, name="retention"),
]
