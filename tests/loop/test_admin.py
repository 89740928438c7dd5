"""The loop's rows can be looked at in the Django admin."""

from __future__ import annotations

import pytest
from django.test import Client

from closeloop.cases.models import Case


@pytest.fixture
def superuser_client(recent_close: Case, django_user_model) -> Client:  # type: ignore[no-untyped-def]
    """A superuser of its own: pytest-django's `admin` would be Acme's configured person of that name."""
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", "root@acme.example", "pw"))
    return client


@pytest.mark.parametrize("model", ["followup", "activity", "spikealert"])
def test_the_admin_lists_the_loops_rows(superuser_client: Client, model: str) -> None:
    assert superuser_client.get(f"/admin/loop/{model}/").status_code == 200


def test_the_admin_never_shows_a_follow_ups_nonce(recent_close: Case, superuser_client: Client) -> None:
    page = superuser_client.get(f"/admin/loop/followup/{recent_close.follow_up.pk}/change/")
    assert page.status_code == 200
    assert recent_close.follow_up.nonce.encode() not in page.content
