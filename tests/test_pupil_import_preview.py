"""The pupil import preview counts rows with errors apart from problems, and names
the pupils an import updates."""

import io
import re

import pytest
import time_machine
from django.urls import reverse

from pupils.imports import build_plan

from .factories import EnrolmentFactory, PupilFactory
from .factories_imports import (
    IMPORT_DAY,
    IMPORT_MOMENT,
    PUPIL_HEADER,
    csv_bytes,
    pupil_row,
    secondary,
    trust_admin,
    tutor_group,
    upn_for,
)

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(IMPORT_MOMENT, tick=False):
        yield


@pytest.fixture(autouse=True)
def upload_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def academy():
    return secondary(name="Oak Academy", urn="140101")


def preview_text(client, academy, content: bytes) -> str:
    client.force_login(trust_admin(academy))
    file = io.BytesIO(content)
    file.name = "pupils.csv"
    response = client.post(reverse("pupils:import"), {"academy": academy.pk, "file": file})
    assert response.status_code == 302
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    return " ".join(re.sub(r"<[^>]+>", " ", preview.content.decode()).split())


def one_bad_row_file() -> bytes:
    bad = pupil_row(2, sex="X", dob="31/02/2012", sen="Z", fsm="Maybe", eal="Perhaps")
    return csv_bytes([PUPIL_HEADER, pupil_row(1), bad, pupil_row(3)])


def test_summary_counts_rows_with_errors(academy):
    plan = build_plan(
        academy=academy, content=one_bad_row_file(), filename="pupils.csv", import_date=IMPORT_DAY
    )

    summary = plan.summary()

    assert summary["rows"] == 3
    assert summary["error_rows"] == 1
    assert summary["errors"] == 5


def test_preview_says_rows_and_problems(client, academy):
    body = preview_text(client, academy, one_bad_row_file())

    assert "3 rows read, 1 row with errors (5 problems)." in body
    assert "5 errors" not in body


def test_updated_pupils_table_names_pupil(client, academy):
    pupil = PupilFactory(
        upn=upn_for(1), legal_forename="Amara", legal_surname="Okafor", preferred_forename=""
    )
    EnrolmentFactory(pupil=pupil, tutor_group=tutor_group(academy, "9A", 9))
    row = pupil_row(1, forename="Amara", surname="Okafor", eal="Yes")

    body = preview_text(client, academy, csv_bytes([PUPIL_HEADER, row]))

    assert "UPN Name Changes" in body
    assert f"{pupil.upn} Amara Okafor" in body
