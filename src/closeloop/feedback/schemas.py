"""The shape of an incoming response (the API body, a JSON Lines row, a converted CSV row).

Only the envelope is checked here; answers are checked against the survey's questions
in closeloop.feedback.store, because that needs the stored survey.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from closeloop.feedback.models import Response

Code = Annotated[StrictStr, Field(max_length=100)]


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    name: Annotated[StrictStr, Field(max_length=200)] = ""
    email: Annotated[StrictStr, Field(max_length=254)] = ""
    phone: Annotated[StrictStr, Field(max_length=40)] = ""
    tier: Annotated[StrictStr, Field(max_length=50)] = ""
    # Omitted means no: consent to be contacted (and recorded) is given, never assumed.
    contact_ok: StrictBool = False

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value:
            try:
                validate_email(value)
            except ValidationError:
                raise ValueError(f"{value!r} is not an email address") from None
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if value and not all(c.isdigit() or c in "+-() ." for c in value):
            raise ValueError(f"{value!r} is not a phone number")
        return value


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    survey: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    external_id: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    submitted_at: datetime | None = None
    unit: Code | None = None
    segment: Code | None = None
    agent: Code | None = None
    ticket: Annotated[StrictStr, Field(max_length=200)] | None = None
    customer: CustomerIn | None = None
    answers: dict[str, Any]
    interviewer_notes: Annotated[StrictStr, Field(max_length=20_000)] = ""
    interviewer_flag: StrictBool = False
    audio_url: Annotated[StrictStr, Field(max_length=1000)] | None = None

    @field_validator("audio_url")
    @classmethod
    def _audio_url(cls, value: str | None) -> str | None:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("expected an absolute http(s) URL")
        return value or None


class ResponseFixIn(BaseModel):
    """What `PATCH /api/v1/responses/{id}` may change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    unit: Code | None = None
    segment: Code | None = None


def customer_body(response: Response) -> dict[str, Any] | None:
    """A response's customer in the shape of the `customer` object of a response body, or None.

    The name, email, phone and consent are the response's own (what it was sent with; a later withdrawal
    clears the consent): sending the same customer id for another unit changes nothing shown here. Name,
    email and phone are null unless the customer agreed to be contacted in this response: no surface shows
    the contact details of a customer who did not, to anyone. The id, tier and consent stay.
    """
    customer = response.customer
    if customer is None:
        return None
    shown = response.contact_ok
    return {
        "id": customer.external_id,
        "name": response.customer_name if shown else None,
        "email": response.customer_email if shown else None,
        "phone": response.customer_phone if shown else None,
        "tier": customer.tier,
        "contact_ok": response.contact_ok,
    }
