"""`closeloop ingest FILE --format qualtrics`: a Qualtrics export read through a qualtrics source's map, with
the counts and the rejects file of every other import."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from closeloop.config.apply import apply_config
from closeloop.feedback.models import Response
from tests.connectors.conftest import SECRET
from tests.connectors.tool_api import FakeApi
from tests.intake.conftest import hooks_config, payload

pytestmark = pytest.mark.usefixtures("hooks")

EXPORT = payload("qualtrics_export_qualtRics_sample.csv").decode("utf-8")
HEADER = EXPORT.splitlines()[:3]
ROW = EXPORT.splitlines()[3]


def export_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "export.csv"
    path.write_text("\n".join([*HEADER, *(rows or (ROW,))]) + "\n", encoding="utf-8")
    return path


def ingest(*args: str) -> str:
    out = io.StringIO()
    call_command("ingest", *args, stdout=out)
    return out.getvalue()


def test_the_export_is_read_through_the_sources_map_and_counted_like_any_import(tmp_path: Path) -> None:
    path = export_file(tmp_path)
    assert ingest(str(path), "--format", "qualtrics", "--mapping", "install-qualtrics") == (
        f"Imported {path}: 1 rows\n  created:  1\n  replayed: 0\n  invalid:  0\n  rejected: 0\n  skipped:  0\n"
    )
    response = Response.objects.get()
    assert (response.external_id, response.source) == ("R_2YPOQ602ER1jkf1", "file")
    assert response.answers == {"completed": False, "comment": "Hello World!"}
    # The export's times have no offset: they are the organisation's (New York).
    assert response.submitted_at.isoformat() == "2017-07-18T12:28:48+00:00"
    assert list(response.alerts.values_list("rule_key", flat=True)) == ["install-failed"]
    again = ingest(str(path), "--format", "qualtrics", "--survey", "upgrade-install", "--source", "qualtrics-export")
    assert "replayed: 1" in again
    assert Response.objects.count() == 1


def test_previews_are_skipped_and_broken_rows_rejected_into_a_file_that_imports_again(tmp_path: Path) -> None:
    preview = ROW.replace(",0,130.92.34.66,", ",1,130.92.34.66,").replace("R_2YPOQ602ER1jkf1", "R_preview")
    short = "2017-07-18 08:28:09,2017-07-18 08:28:48,0"
    path = export_file(tmp_path, preview, short, ROW.replace("R_2YPOQ602ER1jkf1", "R_second"))
    output = ingest(str(path), "--format", "qualtrics", "--mapping", "install-qualtrics")
    assert output.splitlines()[1:] == [
        "  created:  1",
        "  replayed: 0",
        "  invalid:  0",
        "  rejected: 1",
        "  skipped:  1  (previews, tests and spam)",
        f"Rejected rows written to {path}.rejects.csv",
    ]
    rejects = list(csv.reader(io.StringIO(Path(f"{path}.rejects.csv").read_text(encoding="utf-8"))))
    assert [row[-1] for row in rejects] == [
        "reason",
        "reason",
        '{"ImportId": "reason"}',
        "row: the row has 3 cells, the header has 20",
    ]
    assert rejects[1][0] == "Anfangsdatum"
    # Corrected, the rejects file is again an export.
    fixed = [*rejects[:3], [*next(csv.reader([ROW.replace("R_2YPOQ602ER1jkf1", "R_fixed")])), ""]]
    corrected = tmp_path / "corrected.csv"
    with corrected.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(fixed)
    assert "created:  1" in ingest(str(corrected), "--format", "qualtrics", "--mapping", "install-qualtrics")
    assert sorted(Response.objects.values_list("external_id", flat=True)) == ["R_fixed", "R_second"]


def test_without_a_qualtrics_source_columns_named_like_question_keys_answer_them(tmp_path: Path) -> None:
    header = HEADER[0].replace(",Q1,Q2,", ",score,comment,")
    path = tmp_path / "renamed.csv"
    path.write_text("\n".join([header, *HEADER[1:], ROW.replace(",anonymous,DE,2,", ",anonymous,DE,3,")]) + "\n")
    ingest(str(path), "--format", "qualtrics", "--survey", "support-csat")
    response = Response.objects.get()
    assert response.answers == {"score": 3, "comment": "Hello World!"}
    assert response.status == "invalid"  # no map, no unit


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mapping", "install-qualtrics"], "--mapping: only with --format qualtrics"),
        (["--format", "qualtrics"], "--format qualtrics: give --survey KEY or --mapping SOURCE"),
        (
            ["--format", "qualtrics", "--mapping", "install-typeform"],
            "--mapping: 'install-typeform' is not a qualtrics source (qualtrics sources: install-qualtrics)",
        ),
        (
            ["--format", "qualtrics", "--mapping", "install-qualtrics", "--survey", "relationship"],
            "--survey 'relationship': source 'install-qualtrics' feeds survey 'upgrade-install'",
        ),
        (
            ["--format", "qualtrics", "--survey", "nope"],
            "--survey: unknown survey 'nope' (known: recovery-check, relationship, support-csat, upgrade-install)",
        ),
    ],
)
def test_wrong_options_exit_2_saying_why(tmp_path: Path, args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as caught:
        ingest(str(export_file(tmp_path)), *args)
    assert (caught.value.returncode, str(caught.value)) == (2, message)
    assert Response.objects.count() == 0


def test_a_survey_with_two_qualtrics_sources_needs_the_mapping_named(hooks: FakeApi, tmp_path: Path) -> None:
    second = {"key": "install-qualtrics-2", "tool": "qualtrics", "survey": "upgrade-install", "secret": SECRET}
    apply_config(hooks_config(hooks.base, extra_sources=[second]))
    with pytest.raises(CommandError) as caught:
        ingest(str(export_file(tmp_path)), "--format", "qualtrics", "--survey", "upgrade-install")
    assert str(caught.value) == (
        "survey 'upgrade-install' has several qualtrics sources (install-qualtrics, install-qualtrics-2): "
        "give --mapping"
    )


def test_a_file_that_is_not_an_export_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("external_id,score\nA,3\nB,4\n")
    with pytest.raises(CommandError) as caught:
        ingest(str(path), "--format", "qualtrics", "--survey", "support-csat")
    assert str(caught.value) == f'{path}: the third header row is not the ImportIds ({{"ImportId":"QID1"}}, ...)'
