"""KS2 field labels read as the phase and measure, not "Ks2 reading"."""

import pytest
from django.urls import reverse

from pupils.models import Pupil
from tests.factories import PupilFactory, UserFactory


def test_ks2_verbose_names():
    assert Pupil._meta.get_field("ks2_reading").verbose_name == "KS2 reading scaled score"
    assert Pupil._meta.get_field("ks2_maths").verbose_name == "KS2 maths scaled score"


@pytest.mark.django_db
def test_admin_change_form_shows_ks2_labels(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    pupil = PupilFactory()
    client.force_login(admin)

    response = client.get(reverse("admin:pupils_pupil_change", args=[pupil.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "KS2 reading scaled score" in body
    assert "KS2 maths scaled score" in body
    assert "Ks2 reading" not in body
