"""The pupil profile PDF and the web profile show the same facts in the same order."""

import datetime
import re
import subprocess
from html import unescape as html_unescape
from pathlib import Path

import pytest
import time_machine

from pupils.models import Enrolment

from .factories import AcademicYearFactory, TutorGroupFactory
from .factories_output import (
    NOW,
    ContactFactory,
    FsmPeriodFactory,
    School,
    head_of_year,
    two_schools,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def oak():
    with time_machine.travel(NOW, tick=False):
        yield two_schools()[0]


def folded(html: str) -> str:
    """Return the page's text with each tag read as a space, as a screen reader separates cells."""
    return " ".join(html_unescape(re.sub(r"<[^>]+>", " ", html)).split())


def page_text(client, user, pupil) -> str:
    client.force_login(user)
    response = client.get(f"/pupils/{pupil.pk}/")
    assert response.status_code == 200
    return folded(response.content.decode())


def pdf_text(client, user, pupil, tmp_path: Path) -> str:
    client.force_login(user)
    response = client.get(f"/pupils/{pupil.pk}/profile.pdf")
    assert response.status_code == 200
    source = tmp_path / "profile.pdf"
    source.write_bytes(response.content)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(source), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return " ".join(result.stdout.split())


def enrol_last_year(school: School, pupil) -> None:
    """Give `pupil` an enrolment at `school` that ran through 2025/26."""
    last_year = AcademicYearFactory(trust=school.academy.trust, start_year=2025)
    group = TutorGroupFactory(
        academy=school.academy,
        academic_year=last_year,
        year_group=school.year9,
        name="8Z",
    )
    Enrolment.objects.create(
        pupil=pupil,
        academy=school.academy,
        academic_year=last_year,
        year_group=school.year9,
        tutor_group=group,
        start_date=datetime.date(2025, 9, 3),
        end_date=datetime.date(2026, 7, 22),
    )


@pytest.fixture
def both_views(client, oak, tmp_path):
    """Return a function giving (page text, PDF text) for a pupil seen by Oak's head of Year 9."""
    user = head_of_year(oak.year9)

    def read(pupil) -> tuple[str, str]:
        with time_machine.travel(NOW, tick=False):
            return page_text(client, user, pupil), pdf_text(client, user, pupil, tmp_path)

    return read


def test_disadvantaged_row_in_both(oak, both_views):
    pupil = oak.enrol()
    FsmPeriodFactory(pupil=pupil)

    page, pdf = both_views(pupil)

    assert "Disadvantaged Yes" in page
    assert "Disadvantaged Yes" in pdf


def test_no_pupil_premium_wording_matches(oak, both_views):
    pupil = oak.enrol()

    page, pdf = both_views(pupil)

    assert "Pupil premium Not eligible" in page
    assert "Pupil premium Not eligible" in pdf
    assert "Disadvantaged No" in page
    assert "Disadvantaged No" in pdf


def test_enrolments_newest_first_in_both(oak, both_views):
    pupil = oak.enrol()
    enrol_last_year(oak, pupil)

    page, pdf = both_views(pupil)

    for text in (page, pdf):
        current = text.index("01/09/2026")
        earlier = text.index("03/09/2025")
        assert current < earlier


def test_contact_priority_in_both(oak, both_views):
    pupil = oak.enrol()
    ContactFactory(pupil=pupil, name="Second Carer", priority=2)
    ContactFactory(pupil=pupil, name="First Carer", priority=1)

    page, pdf = both_views(pupil)

    for text in (page, pdf):
        assert "Priority" in text
        assert re.search(r"\b1 First Carer\b", text)
        assert re.search(r"\b2 Second Carer\b", text)
        assert text.index("First Carer") < text.index("Second Carer")
