"""Cases P1 and P3 on a pupil's progress.

The average is over the grades entered and a gap shows as a gap. The
average and the grade it rounds to read the same on the page, in the CSV
and in the PDF."""

import csv
import datetime
import io
import re

import pytest
import time_machine

from progress.models import TargetGrade

from .factories_progress import (
    AssessmentPointFactory,
    ClassMembershipFactory,
    GradeEntryFactory,
    QualificationFactory,
    TargetGradeFactory,
    TeachingGroupFactory,
    grade_of,
)
from .personas import TODAY, build_personas
from .test_pdf import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        yield build_personas()


@pytest.fixture
def pupil(world):
    """O'Brien in a maths class: TMG 6, grades 6 then 5, and a third point with no grade."""
    oak = world.academies["oak"]
    pupil = world.pupils["oak9a_obrien"]
    qualification = QualificationFactory(subject__trust=oak.trust, subject__name="Mathematics")
    group = TeachingGroupFactory(
        academy=oak,
        academic_year=world.academic_year,
        year_group=world.year_groups["oak9"],
        qualification=qualification,
    )
    ClassMembershipFactory(group=group, pupil=pupil)
    scale = qualification.scale
    TargetGradeFactory(
        pupil=pupil,
        qualification=qualification,
        academic_year=world.academic_year,
        grade=grade_of(scale, "6"),
        basis=TargetGrade.Basis.MANUAL,
    )
    for day, label in ((datetime.date(2026, 10, 1), "6"), (datetime.date(2026, 11, 1), "5")):
        point = AssessmentPointFactory(group=group, date=day, name=f"Drop {day:%m}")
        GradeEntryFactory(
            pupil=pupil,
            qualification=qualification,
            assessment_point=point,
            grade=grade_of(scale, label),
        )
    AssessmentPointFactory(group=group, date=datetime.date(2026, 12, 1), name="Drop 12")
    return pupil


def test_average_over_entered_grades(world, pupil, client, tmp_path):
    client.force_login(world.users["headteacher"])
    url = f"/progress/pupils/{pupil.pk}/"

    with time_machine.travel(TODAY, tick=False):
        page = client.get(url).content.decode()
        download = client.get(url, {"format": "csv"})
        exported = b"".join(download.streaming_content).decode("utf-8-sig")
        pdf = client.get(url, {"format": "pdf"}).content

    # (6 + 5) / 2 = 5.50, exactly between 5 and 6, so the higher grade.
    assert "5.50 (grade 6)" in page
    assert 'title="No grade entered"' in page
    rows = list(csv.DictReader(io.StringIO(exported)))
    maths = [row for row in rows if row["Qualification"] == "GCSE Mathematics"]
    assert len(maths) == 3
    assert {row["Average points this year"] for row in maths} == {"5.5"}
    assert {row["Average as a grade"] for row in maths} == {"6"}
    assert [row["Grade"] for row in maths] == ["6", "5", ""]
    assert "5.50 (grade 6)" in re.sub(r"\s+", " ", pdf_text(pdf, tmp_path))


def test_bad_format_is_400(world, pupil, client):
    client.force_login(world.users["headteacher"])

    response = client.get(f"/progress/pupils/{pupil.pk}/", {"format": "doc"})

    assert response.status_code == 400
    assert "format" in response.content.decode()
