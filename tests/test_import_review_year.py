"""The pupil import review list names year groups as schools write them."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from pupils.models import PupilReview
from pupils.templatetags.pupil_imports import imported_year_name

from .factories import EnrolmentFactory, PupilFactory
from .factories_imports import IMPORT_MOMENT, secondary, trust_admin, tutor_group, upn_for


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11", "Year 11"),
        ("year 11", "Year 11"),
        ("Y9", "Year 9"),
        ("R", "Reception"),
        ("N", "Nursery"),
        (" 7 ", "Year 7"),
        ("Year 14", "Year 14"),
        ("", ""),
    ],
)
def test_imported_year_name(text, expected):
    assert imported_year_name(text) == expected


@pytest.mark.django_db
def test_review_list_shows_year_group_name(client):
    with time_machine.travel(IMPORT_MOMENT, tick=False):
        oak = secondary(name="Oak Academy", urn="140101")
        elm = secondary(trust=oak.trust, name="Elm Academy")
        pupil = PupilFactory(upn=upn_for(1), date_of_birth=datetime.date(2010, 5, 5))
        EnrolmentFactory(pupil=pupil, tutor_group=tutor_group(elm, "11E", 11))
        PupilReview.objects.create(
            academy=oak,
            existing_pupil=pupil,
            row={
                "upn": pupil.upn,
                "legal_forename": "Ada",
                "legal_surname": "Okafor",
                "date_of_birth": "06/05/2010",
                "year": "11",
                "line": "2",
            },
            reason="UPN held at another academy with another date of birth.",
        )
        client.force_login(trust_admin(oak))

        response = client.get(reverse("pupils:review-list"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Oak Academy, Year 11" in body
    assert "year 11" not in body
