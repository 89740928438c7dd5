"""Allow-lists of recording hosts (core.hosts): what becomes a link, and how an address that does not is
written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closeloop.core.hosts import defanged, host_problem, link_allowed, normalise_hosts, origin_of

HOSTS = ["recordings.example.com", "*.cdn.example.net", "media.example.org:8443"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://recordings.example.com/a.mp3", True),
        ("HTTPS://Recordings.Example.COM/a.mp3", True),
        ("https://recordings.example.com:443/a.mp3", True),
        ("https://recordings.example.com./a.mp3", True),
        ("https://eu.cdn.example.net/a.mp3", True),
        ("https://media.example.org:8443/a.mp3", True),
        ("http://recordings.example.com/a.mp3", False),
        ("https://recordings.example.com:8443/a.mp3", False),
        ("https://media.example.org/a.mp3", False),
        ("https://cdn.example.net/a.mp3", False),
        ("https://recordings.example.com.evil.example/a.mp3", False),
        ("https://evilrecordings.example.com/a.mp3", False),
        ("https://recordings.example.com@evil.example/a.mp3", False),
        ("https://user:pw@recordings.example.com/a.mp3", False),
        ("javascript:alert(1)//recordings.example.com", False),
        ("https://[::1/a.mp3", False),
        ("https://recordings.example.com:99999/a.mp3", False),
        ("", False),
    ],
)
def test_only_https_on_a_listed_host_may_be_a_link(url: str, allowed: bool) -> None:
    assert link_allowed(url, HOSTS) is allowed


def test_an_empty_list_allows_nothing() -> None:
    assert link_allowed("https://recordings.example.com/a.mp3", []) is False


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("recordings.example.com", None),
        ("*.example.com", None),
        ("media.example.org:8443", None),
        ("localhost", None),
        ("https://recordings.example.com", "is not a host name: give the host only"),
        ("recordings.example.com/path", "is not a host name: give the host only"),
        ("user@host.example", "is not a host name: give the host only"),
        ("has space.example", "is not a host name (letters"),
        ("-bad.example", "is not a host name (letters"),
        ("a.*.example", "is not a host name (letters"),
        ("host.example:0", "has no valid port"),
        ("host.example:70000", "has no valid port"),
        ("", "must be a host name"),
    ],
)
def test_entries_are_host_names(entry: str, problem: str | None) -> None:
    found = host_problem(entry)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_entries_are_compared_without_case_or_repeats() -> None:
    assert normalise_hosts([" Media.Example ", "media.example", "b.example"]) == ["media.example", "b.example"]


def test_a_defanged_address_keeps_its_path_and_cannot_be_linked() -> None:
    assert defanged("https://evil.example/x.mp3?a=1") == "https[:]//evil[.]example/x.mp3?a=1"
    assert defanged("evil.example/x") == "evil[.]example/x"


@given(st.text())
def test_no_text_is_ever_allowed_by_an_empty_list_and_none_breaks_the_check(url: str) -> None:
    assert link_allowed(url, []) is False
    link_allowed(url, HOSTS)
    defanged(url)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://recordings.example.com/a.mp3", "https://recordings.example.com"),
        ("HTTPS://Recordings.Example.COM:443/a.mp3?x=1", "https://recordings.example.com"),
        ("https://media.example.org:8443/a.mp3", "https://media.example.org:8443"),
        ("https://recordings.example.com./a.mp3", "https://recordings.example.com"),
        ("http://recordings.example.com/a.mp3", ""),
        ("https://trusted.example@evil.example/a.mp3", ""),
        ("https://[::1]/a.mp3", ""),
        ("https://bad;host.example/a.mp3", ""),
        ("https://recordings.example.com:99999/a.mp3", ""),
        ("/responses/3/recording", ""),
    ],
)
def test_the_origin_of_a_recording_is_a_plain_https_host_for_the_pages_policy(url: str, origin: str) -> None:
    assert origin_of(url) == origin


@given(st.text())
def test_no_address_puts_a_separator_or_space_into_the_policy(url: str) -> None:
    assert not any(character in origin_of(url) for character in " ;,'\"\n\t")
