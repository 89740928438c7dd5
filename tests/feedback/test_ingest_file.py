"""`closeloop ingest FILE`: reading CSV and JSON Lines, converting cells, counting outcomes, rejects."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from closeloop.config.apply import apply_config
from closeloop.core.answers import QuestionSpec
from closeloop.feedback.files import (
    CellError,
    CsvResponses,
    JsonLinesResponses,
    UnreadableFile,
    open_response_file,
    parse_answer,
    parse_bool,
    parse_number,
    rejects_path,
)
from closeloop.feedback.models import Response

CONFIG = """
organization:
  name: Acme Software
  time_zone: America/New_York
units:
  - code: ACME
    name: Acme
    children:
      - {code: SUP-EMEA, name: Support EMEA}
      - {code: SUP-US, name: Support US}
segments: [SMB, ENT]
surveys:
  - key: upgrade-install
    name: Upgrade installation
    overall: ease
    questions:
      - {key: ease, type: scale, min: 1, max: 10}
      - {key: completed, type: yes_no}
      - {key: factors, type: multi_choice, options: [Speed, Knowledge, Courtesy]}
      - {key: comment, type: text}
  - key: relationship
    name: Relationship
    overall: nps
    questions:
      - {key: nps, type: nps}
      - {key: comment, type: text}
"""

SURVEYS = {
    "upgrade-install": {
        "ease": QuestionSpec("ease", "scale", 1, 10),
        "completed": QuestionSpec("completed", "yes_no"),
        "factors": QuestionSpec("factors", "multi_choice", options=("Speed", "Knowledge", "Courtesy")),
        "comment": QuestionSpec("comment", "text"),
    },
    "relationship": {"nps": QuestionSpec("nps", "nps"), "comment": QuestionSpec("comment", "text")},
}

HEADER = (
    "external_id,submitted_at,unit,segment,agent,ticket,customer_id,customer_name,customer_email,"
    "customer_phone,customer_tier,contact_ok,ease,completed,factors,comment"
)


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def csv_row(
    external_id: str, *, unit: str = "SUP-EMEA", ease: str = "7", completed: str = "yes", date: str = ""
) -> str:
    submitted = date or "2026-11-20T10:04:00Z"
    return (
        f"{external_id},{submitted},{unit},SMB,,T-{external_id},C-{external_id},Pat Lee,pat@example.com,"
        f"+15555550123,Gold,yes,{ease},{completed},Speed;Courtesy,It worked"
    )


def run_ingest(*args: str) -> str:
    out = StringIO()
    call_command("ingest", *args, stdout=out)
    return out.getvalue()


def read_rejects(path: Path) -> list[dict[str, str]]:
    with rejects_path(path).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def configured(db: None) -> None:
    apply_config(CONFIG)


# -- cell conversion (no database) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"), [("yes", True), ("No", False), ("TRUE", True), ("0", False), ("1", True)]
)
def test_yes_no_cells_accept_the_usual_spellings(text: str, expected: bool) -> None:
    assert parse_bool(text) is expected


def test_numbers_stay_whole_when_they_are_whole() -> None:
    assert parse_number("7") == 7 and isinstance(parse_number("7.0"), int)
    assert parse_number("7.5") == 7.5


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "7,5"])
def test_text_that_is_not_a_finite_number_is_refused(text: str) -> None:
    with pytest.raises(CellError, match="number"):
        parse_number(text)


def test_multi_choice_cells_split_on_semicolons_and_bars() -> None:
    spec = SURVEYS["upgrade-install"]["factors"]
    assert parse_answer(spec, "Speed; Knowledge|Courtesy;") == ["Speed", "Knowledge", "Courtesy"]


def test_a_csv_row_becomes_the_api_body_with_typed_answers(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", HEADER, csv_row("sm-1"))
    (row,) = CsvResponses(path, surveys=SURVEYS, default_survey="upgrade-install").rows()
    assert row.errors == []
    assert row.item is not None
    assert row.item["answers"] == {
        "ease": 7,
        "completed": True,
        "factors": ["Speed", "Courtesy"],
        "comment": "It worked",
    }
    assert row.item["customer"] == {
        "id": "C-sm-1",
        "name": "Pat Lee",
        "email": "pat@example.com",
        "phone": "+15555550123",
        "tier": "Gold",
        "contact_ok": True,
    }
    assert row.item["survey"] == "upgrade-install"
    assert row.item["submitted_at"].isoformat() == "2026-11-20T10:04:00+00:00"
    assert "agent" not in row.item  # an empty cell is an absent field


def test_an_empty_answer_cell_leaves_the_question_unanswered(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", HEADER, csv_row("sm-1", completed=""))
    (row,) = CsvResponses(path, surveys=SURVEYS, default_survey="upgrade-install").rows()
    assert row.item is not None and "completed" not in row.item["answers"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"date": "23/11/2026"}, "submitted_at: '23/11/2026' is not an ISO-8601 date"),
        ({"ease": "seven"}, "answers.ease: 'seven' is not a number"),
        ({"completed": "maybe"}, "answers.completed: 'maybe' is not yes/no"),
    ],
)
def test_a_bad_cell_rejects_its_row_naming_the_field(tmp_path: Path, change: dict[str, str], reason: str) -> None:
    path = write(tmp_path / "in.csv", HEADER, csv_row("sm-1", **change))
    (row,) = CsvResponses(path, surveys=SURVEYS, default_survey="upgrade-install").rows()
    assert row.item is None
    assert str(row.errors[0]).startswith(reason)


def test_a_row_with_the_wrong_number_of_cells_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "external_id,ease", "a-1,5,extra")
    (row,) = CsvResponses(path, surveys=SURVEYS, default_survey="upgrade-install").rows()
    assert row.item is None
    assert str(row.errors[0]) == "row: the row has 3 cells, the header has 2 (extra: 'extra')"


@pytest.mark.parametrize(
    ("header", "survey", "message"),
    [
        ("submitted_at,ease", "upgrade-install", "missing required column 'external_id'"),
        ("external_id,ease,colour", "upgrade-install", "unknown column 'colour'"),
        ("external_id,nps", "upgrade-install", "unknown column 'nps'"),
        ("external_id,ease", None, "missing required column 'survey'"),
        ("external_id,ease,ease", "upgrade-install", "column 'ease' appears twice"),
    ],
)
def test_a_header_that_does_not_fit_makes_the_file_unreadable(
    tmp_path: Path, header: str, survey: str | None, message: str
) -> None:
    path = write(tmp_path / "in.csv", header, "x")
    with pytest.raises(UnreadableFile, match=message):
        CsvResponses(path, surveys=SURVEYS, default_survey=survey)


def test_with_a_survey_column_each_row_is_converted_by_its_own_survey(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "survey,external_id,ease,nps", "upgrade-install,a,7,", "relationship,b,,9")
    first, second = CsvResponses(path, surveys=SURVEYS, default_survey=None).rows()
    assert first.item is not None and first.item["answers"] == {"ease": 7}
    assert second.item is not None and second.item["answers"] == {"nps": 9}


def test_an_answer_for_a_question_of_another_survey_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "survey,external_id,ease,nps", "relationship,b,7,9")
    (row,) = CsvResponses(path, surveys=SURVEYS, default_survey=None).rows()
    assert [str(e) for e in row.errors] == ["answers.ease: not a question of survey 'relationship'"]


def test_json_lines_reject_a_broken_line_and_fill_in_the_survey(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", '{"external_id": "a", "answers": {}}', "", "{not json", "[1, 2]")
    reader = JsonLinesResponses(path, surveys=SURVEYS, default_survey="relationship")
    good, broken, not_object = reader.rows()
    assert good.item == {"external_id": "a", "answers": {}, "survey": "relationship"}
    assert broken.line == 3 and str(broken.errors[0]).startswith("line: not valid JSON")
    assert str(not_object.errors[0]) == "line: expected a JSON object"
    assert reader.count() == 3


@pytest.mark.parametrize(
    ("name", "survey", "message"),
    [("in.txt", None, "unknown file type '.txt'"), ("missing.csv", None, "no such file"), ("in.csv", "x", "--survey")],
)
def test_files_that_cannot_be_imported_at_all(tmp_path: Path, name: str, survey: str | None, message: str) -> None:
    write(tmp_path / "in.txt", "x")
    write(tmp_path / "in.csv", HEADER)
    with pytest.raises(UnreadableFile, match=message):
        open_response_file(tmp_path / name, surveys=SURVEYS, default_survey=survey)


def test_undecodable_bytes_are_a_whole_file_problem(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"external_id,ease\na,\xff\xfe7\n")
    with pytest.raises(UnreadableFile, match="can't decode byte 0xff"):
        open_response_file(path, surveys=SURVEYS, default_survey="upgrade-install").count()


# -- the command --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_importing_a_csv_stores_every_row_and_prints_the_counts(configured: None, tmp_path: Path) -> None:
    path = write(tmp_path / "march.csv", HEADER, *(csv_row(f"sm-{n}") for n in range(5)))
    output = run_ingest(str(path), "--survey", "upgrade-install", "--source", "surveymonkey")
    assert "created:  5" in output and "rejected: 0" in output
    stored = Response.objects.get(external_id="sm-3")
    assert stored.source == "surveymonkey"
    assert stored.answers == {"ease": 7, "completed": True, "factors": ["Speed", "Courtesy"], "comment": "It worked"}
    assert stored.customer is not None and stored.customer.contact_ok is True
    assert not rejects_path(path).exists()


@pytest.mark.django_db
def test_importing_the_same_file_again_replays_instead_of_duplicating(configured: None, tmp_path: Path) -> None:
    path = write(tmp_path / "march.csv", HEADER, *(csv_row(f"sm-{n}") for n in range(3)))
    run_ingest(str(path), "--survey", "upgrade-install")
    output = run_ingest(str(path), "--survey", "upgrade-install")
    assert "created:  0" in output and "replayed: 3" in output
    assert Response.objects.count() == 3


@pytest.mark.django_db
def test_rows_for_unknown_units_are_stored_as_invalid(configured: None, tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", HEADER, csv_row("a"), csv_row("b", unit="SUP-MARS"), csv_row("c", unit=""))
    output = run_ingest(str(path), "--survey", "upgrade-install")
    assert "created:  1" in output and "invalid:  2" in output
    assert Response.objects.filter(status=Response.Status.INVALID).count() == 2


@pytest.mark.django_db
def test_rejected_rows_are_written_beside_the_input_with_the_reason(configured: None, tmp_path: Path) -> None:
    path = write(
        tmp_path / "in.csv",
        HEADER,
        csv_row("good"),
        csv_row("bad-date", date="yesterday"),
        csv_row("bad-number", ease="lots"),
        csv_row("out-of-range", ease="11"),
    )
    output = run_ingest(str(path), "--survey", "upgrade-install")
    assert "created:  1" in output and "rejected: 3" in output
    assert f"Rejected rows written to {rejects_path(path)}" in output
    rejects = read_rejects(path)
    assert list(rejects[0]) == [*HEADER.split(","), "reason"]
    assert [(r["external_id"], r["reason"].split(":")[0]) for r in rejects] == [
        ("bad-date", "submitted_at"),
        ("bad-number", "answers.ease"),
        ("out-of-range", "answers.ease"),
    ]
    assert rejects[2]["reason"] == "answers.ease: 11 is above the maximum 10"
    assert rejects[1]["ease"] == "lots"  # the original cells, ready to be corrected and imported again
    assert Response.objects.count() == 1


@pytest.mark.django_db
def test_a_corrected_rejects_file_can_be_imported_as_it_is(configured: None, tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", HEADER, csv_row("a", ease="lots"))
    run_ingest(str(path), "--survey", "upgrade-install")
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(rejects_path(path).read_text().replace("lots", "4"))
    output = run_ingest(str(fixed), "--survey", "upgrade-install")
    assert "created:  1" in output and "rejected: 0" in output
    assert Response.objects.get(external_id="a").answers["ease"] == 4


@pytest.mark.django_db
def test_a_missing_column_exits_2_and_imports_nothing(configured: None, tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "submitted_at,ease", "2026-11-20T10:00:00Z,5")
    with pytest.raises(CommandError, match="missing required column 'external_id'") as raised:
        run_ingest(str(path), "--survey", "upgrade-install")
    assert raised.value.returncode == 2
    assert Response.objects.count() == 0 and not rejects_path(path).exists()


@pytest.mark.django_db
def test_an_unknown_survey_option_exits_2(configured: None, tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", HEADER, csv_row("a"))
    with pytest.raises(CommandError, match="--survey: unknown survey 'nope'") as raised:
        run_ingest(str(path), "--survey", "nope")
    assert raised.value.returncode == 2


@pytest.mark.django_db
def test_the_survey_column_chooses_the_survey_per_row(configured: None, tmp_path: Path) -> None:
    path = write(
        tmp_path / "in.csv",
        "survey,external_id,unit,segment,ease,nps",
        "upgrade-install,a,SUP-US,ENT,7,",
        "relationship,b,SUP-US,ENT,,3",
    )
    output = run_ingest(str(path))
    assert "created:  2" in output
    assert Response.objects.get(external_id="b").survey.key == "relationship"


@pytest.mark.django_db
def test_json_lines_with_a_broken_line(configured: None, tmp_path: Path) -> None:
    body = {"survey": "relationship", "unit": "SUP-US", "segment": "ENT", "answers": {"nps": 9}}
    path = write(
        tmp_path / "in.jsonl",
        json.dumps({**body, "external_id": "j-1"}),
        '{"survey": "relationship", "external_id": "j-2", "answers": {"nps": 9}',
        json.dumps({**body, "external_id": "j-3", "answers": {"nps": "high"}}),
        json.dumps({**body, "external_id": "j-4"}),
    )
    output = run_ingest(str(path))
    assert "created:  2" in output and "rejected: 2" in output
    rejects = read_rejects(path)
    assert [r["line_number"] for r in rejects] == ["2", "3"]
    assert rejects[0]["reason"].startswith("line: not valid JSON")
    assert rejects[1]["reason"] == "answers.nps: expected a number, got str"
    assert json.loads(rejects[1]["line"])["external_id"] == "j-3"


@pytest.mark.django_db
def test_rows_are_sent_in_batches_and_counted_once(configured: None, tmp_path: Path) -> None:
    rows = [csv_row(f"r-{n}") for n in range(7)] + [csv_row("r-0"), csv_row("bad", ease="x")]
    path = write(tmp_path / "in.csv", HEADER, *rows)
    output = run_ingest(str(path), "--survey", "upgrade-install", "--batch-size", "3")
    assert "Imported" in output and ": 9 rows" in output
    assert "created:  7" in output and "replayed: 1" in output and "rejected: 1" in output


@pytest.mark.django_db
def test_a_stale_rejects_file_is_removed_when_a_later_import_rejects_nothing(configured: None, tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", HEADER, csv_row("a"))
    rejects_path(path).write_text("old")
    run_ingest(str(path), "--survey", "upgrade-install")
    assert not rejects_path(path).exists()


def test_the_installed_command_imports_a_file_and_prints_the_summary(tmp_path: Path) -> None:
    closeloop = Path(sys.executable).with_name("closeloop")
    env = {**os.environ, "CLOSELOOP_HOME": str(tmp_path / "home")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    config = write(tmp_path / "org.yaml", CONFIG)
    data = write(tmp_path / "in.csv", HEADER, csv_row("a"), csv_row("b", unit="SUP-MARS"), csv_row("c", ease="x"))
    for args in (["migrate", "--noinput", "-v", "0"], ["config", "apply", str(config)]):
        subprocess.run([str(closeloop), *args], env=env, check=True, capture_output=True, timeout=120)
    done = subprocess.run(
        [str(closeloop), "ingest", str(data), "--survey", "upgrade-install"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:5] == [
        "  created:  1",
        "  replayed: 0",
        "  invalid:  1  (stored; fix their unit or segment)",
        "  rejected: 1",
    ]
    assert f"Rejected rows written to {rejects_path(data)}" in done.stdout
    assert done.stderr == ""  # no progress bar when the output is not a terminal
    broken = subprocess.run(
        [str(closeloop), "ingest", str(write(tmp_path / "bad.csv", "ease", "5")), "--survey", "upgrade-install"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert broken.returncode == 2
    assert "missing required column 'external_id'" in broken.stderr


@pytest.mark.django_db
def test_a_row_with_a_nul_character_is_rejected_and_the_others_are_stored(configured: None, tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", HEADER, csv_row("good"), csv_row("nul\x00id"), csv_row("also-good"))
    output = run_ingest(str(path), "--survey", "upgrade-install")
    assert "created:  2" in output and "rejected: 1" in output
    (reject,) = read_rejects(path)
    assert reject["reason"] == "external_id: contains a NUL character (\\u0000)"
    assert sorted(Response.objects.values_list("external_id", flat=True)) == ["also-good", "good"]


@pytest.mark.django_db
def test_a_json_line_with_a_lone_surrogate_is_rejected_and_the_others_are_stored(
    configured: None, tmp_path: Path
) -> None:
    good = {"external_id": "ok", "unit": "SUP-EMEA", "answers": {"ease": 7, "comment": "Fine"}}
    broken = {"external_id": "bad", "unit": "SUP-EMEA", "answers": {"ease": 3}}
    lines = [json.dumps(good), json.dumps(broken).replace('"ease": 3', '"ease": 3, "comment": "\\ud800"')]
    path = write(tmp_path / "in.jsonl", *lines)
    output = run_ingest(str(path), "--survey", "upgrade-install")
    assert "created:  1" in output and "rejected: 1" in output
    (reject,) = read_rejects(path)
    assert reject["reason"] == "answers.comment: contains a lone surrogate (not valid Unicode text)"
    assert list(Response.objects.values_list("external_id", flat=True)) == ["ok"]
