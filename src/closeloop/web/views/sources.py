"""The Sources pages, for administrators: what each survey tool's endpoint received, its dead letters with a
replay, and a form that runs a saved request through the source's map without storing anything."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_POST

from closeloop.actions.receive_hook import replay_dead_letter
from closeloop.config.snapshot import current
from closeloop.connectors import ConnectorError, Inbound
from closeloop.intake.models import DeadLetter, HookDelivery, Source
from closeloop.intake.sources import active_sources, source_entry
from closeloop.intake.trial import guess_content_type, try_payload
from closeloop.notify.links import absolute_url
from closeloop.web.permissions import admin_view
from closeloop.web.views.common import back_to, page

RECENT = 5
SHOWN = 50


class TestPayloadForm(forms.Form):
    body = forms.CharField(
        label="Request body", widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}), strip=False
    )
    headers = forms.CharField(
        label="Headers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One 'Name: value' a line: the signature, the Content-Type (guessed from the body when left out).",
    )
    query = forms.CharField(label="Query string", required=False, help_text="e.g. token=… for tools that sign nothing")
    verify = forms.BooleanField(
        label="Check the signature (a saved request's signed timestamp is usually too old)", required=False
    )

    def clean_headers(self) -> list[tuple[str, str]]:
        pairs = []
        for number, line in enumerate(self.cleaned_data["headers"].splitlines(), start=1):
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon or not name.strip():
                raise forms.ValidationError(f"Line {number} is not 'Name: value'.")
            pairs.append((name.strip(), value.strip()))
        return pairs


@admin_view
def source_list(request: HttpRequest) -> HttpResponse:
    entries = active_sources()
    rows = []
    for source in Source.objects.filter(active=True).order_by("position", "key"):
        entry = entries.get(source.key)
        rows.append(
            {
                "source": source,
                "url": absolute_url("hook", source.key),
                "problem": entry.problem if entry is not None else "",
                "deliveries": list(source.deliveries.order_by("-received_at", "-id")[:RECENT]),
                "waiting": source.dead_letters.filter(state=DeadLetter.State.WAITING).count(),
            }
        )
    return page(request, "web/sources.html", {"rows": rows})


@admin_view
def source_detail(request: HttpRequest, key: str) -> HttpResponse:
    return _detail(request, _source(key), TestPayloadForm(initial={"verify": False}))


@require_POST
@admin_view
def test_payload(request: HttpRequest, key: str) -> HttpResponse:
    source = _source(key)
    form = TestPayloadForm(request.POST)
    if not form.is_valid():
        return _detail(request, source, form, status=422)
    entry = source_entry(key)
    if entry is None:
        raise Http404(f"No source {key!r}.")
    body = form.cleaned_data["body"].encode("utf-8")
    headers = form.cleaned_data["headers"]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", guess_content_type(body)))
    now = timezone.now()
    inbound = Inbound.build(body, headers, query=form.cleaned_data["query"].lstrip("?"), received_at=now)
    try:
        snapshot = current()
        trial = try_payload(
            entry, inbound, catalog=snapshot.catalog, tiers=snapshot.tiers, now=now, verify=form.cleaned_data["verify"]
        )
    except ConnectorError as exc:
        return _detail(request, source, form, refusal=f"{exc.status}: {exc.reason}")
    result = json.dumps(trial.as_dict(), indent=2, ensure_ascii=False)
    return _detail(request, source, form, result=result, trial=trial.as_dict())


@require_POST
@admin_view
def replay(request: HttpRequest, key: str, letter_id: int) -> HttpResponse:
    source = _source(key)
    letter = get_object_or_404(DeadLetter, pk=letter_id, source=source)
    reply = replay_dead_letter(letter, now=timezone.now())
    if reply.status < 400:
        messages.success(request, f"Dead letter {letter.pk} replayed: {reply.detail}")
    else:
        messages.error(request, f"Dead letter {letter.pk} is still not stored: {reply.detail}")
    return back_to(request, f"/sources/{source.key}/")


def _source(key: str) -> Source:
    return get_object_or_404(Source, key=key, active=True)


def _detail(
    request: HttpRequest,
    source: Source,
    form: TestPayloadForm,
    *,
    status: int = 200,
    refusal: str = "",
    result: str = "",
    trial: dict[str, object] | None = None,
) -> HttpResponse:
    entry = source_entry(source.key)
    context = {
        "source": source,
        "url": absolute_url("hook", source.key),
        "problem": entry.problem if entry is not None else "",
        "deliveries": list(HookDelivery.objects.filter(source=source).order_by("-received_at", "-id")[:SHOWN]),
        "letters": list(
            DeadLetter.objects.filter(source=source).defer("body").order_by("state", "-received_at", "-id")[:SHOWN]
        ),
        "form": form,
        "refusal": refusal,
        "result": result,
        "trial": trial,
    }
    return page(request, "web/source.html", context, status=status)
