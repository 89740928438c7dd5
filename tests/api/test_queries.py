"""The reusable pieces other routers and the UI build on: visibility, pages, local days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import RequestFactory

from closeloop.api.errors import ApiError
from closeloop.api.pagination import paginate
from closeloop.cases.queries import responses_for_srn
from closeloop.feedback.queries import local_day_bounds, visible_units
from closeloop.org.models import Role, Unit

pytestmark = pytest.mark.django_db


def codes(units) -> set[str]:
    return set(units.values_list("code", flat=True))


def test_visible_units_is_the_subtree_of_every_role(org):
    erin = org["people"]["erin"]
    assert codes(visible_units(erin)) == {"SUP-EMEA", "SUP-UK"}
    Role.objects.create(person=erin, unit=org["units"]["SUP-AMER"], role=Role.Kind.MEMBER)
    assert codes(visible_units(erin)) == {"SUP-EMEA", "SUP-UK", "SUP-AMER"}


def test_visible_units_does_not_confuse_codes_sharing_a_prefix(org):
    from tests.api.conftest import make_unit

    make_unit("SUP-EMEA2", org["units"]["ACME"])
    assert codes(visible_units(org["people"]["erin"])) == {"SUP-EMEA", "SUP-UK"}


def test_no_restriction_for_admins_and_service_tokens(org):
    assert visible_units(None) is None
    assert visible_units(org["people"]["amy"]) is None


def test_nothing_for_a_person_without_roles(org):
    assert codes(visible_units(org["people"]["nora"])) == set()


def test_an_unknown_srn_is_refused():
    with pytest.raises(ValueError, match="'q'"):
        responses_for_srn(Unit.objects.none(), "q")


def test_a_local_day_with_a_clock_change_has_25_hours():
    start, end = local_day_bounds(date(2026, 11, 1), "America/New_York")
    assert start.astimezone(UTC) == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize("page", ["0", "-1", "2.5", ""])
def test_paginate_refuses_a_bad_page_naming_it(org, page):
    request = RequestFactory().get("/api/v1/things", {"page": page})
    with pytest.raises(ApiError) as caught:
        paginate(request, Unit.objects.order_by("code"), lambda unit: {"code": unit.code})
    assert caught.value.status_code == 422
    assert caught.value.errors == [(("page",), f"must be a whole number from 1 up, not {page!r}")]


def test_paginate_keeps_the_filters_in_next(org):
    request = RequestFactory().get("/api/v1/things", {"kind": "x y", "page": "1"})
    page = paginate(request, Unit.objects.order_by("code"), lambda unit: {"code": unit.code}, page_size=3)
    assert page["count"] == 4
    assert [item["code"] for item in page["items"]] == ["ACME", "SUP-AMER", "SUP-EMEA"]
    assert page["next"] == "http://testserver/api/v1/things?kind=x+y&page=2"
    last = paginate(
        RequestFactory().get(page["next"]), Unit.objects.order_by("code"), lambda u: {"code": u.code}, page_size=3
    )
    assert [item["code"] for item in last["items"]] == ["SUP-UK"] and last["next"] is None
