"""Logging in and out, and session expiry."""

import pytest
from django.conf import settings
from django.urls import reverse

from .factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_login_page_renders(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b'<label for="id_username">Username</label>' in response.content
    assert b'lang="en-GB"' in response.content


def test_wrong_password_shows_error(client):
    StaffFactory(user__username="amira")
    response = client.post(reverse("login"), {"username": "amira", "password": "wrong"})

    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_login_then_logout(client):
    StaffFactory(user__username="amira")
    response = client.post(reverse("login"), {"username": "amira", "password": "password"})

    assert response.status_code == 302
    assert "_auth_user_id" in client.session

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_home_requires_login(client):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sessions_expire():
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
