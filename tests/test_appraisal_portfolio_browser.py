"""A member of staff turns a suggested entry into a portfolio entry with the
keyboard, uploads evidence and downloads it, in headless Chromium."""

from pathlib import Path

import pytest
import time_machine

from appraisal.models import EvidenceFile, PortfolioEntry

from .factories_portfolio import build_portfolio_world, image_bytes
from .personas import TODAY

# serialized_rollback restores the rows migrations seed (the Teachers'
# Standards), which the flush after a transactional test removes.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# The password tests.factories.UserFactory gives every user.
PASSWORD = "password"


@pytest.fixture
def world(tmp_path: Path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    with time_machine.travel(TODAY, tick=True):
        yield build_portfolio_world()


@pytest.fixture
def page(browser, live_server, world):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def press(page, locator, key: str) -> None:
    locator.focus()
    page.keyboard.press(key)


def press_and_load(page, locator, key: str) -> None:
    """Press `key` on `locator` and wait for the page it opens."""
    with page.expect_navigation():
        press(page, locator, key)


def test_suggestion_to_entry_with_evidence(page, world, tmp_path):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()

    page.goto("/appraisal/portfolio/")
    assert page.get_by_role("heading", level=1).inner_text() == "My CPD portfolio"
    press_and_load(page, page.get_by_role("link", name="Add to portfolio"), "Enter")

    assert page.get_by_label("Title").input_value() == "Adaptive teaching for pupils with SEND"
    assert page.get_by_label("Kind").input_value() == "course"
    page.get_by_label("Hours").fill("6")
    page.get_by_label("Cost in pounds").fill("120")
    objective = page.get_by_label("2026/27: Lead the Year 9 reading programme")
    press(page, objective, "Space")
    assert objective.is_checked()
    press_and_load(page, page.get_by_role("button", name="Save"), "Enter")

    assert page.get_by_text("Added “Adaptive teaching for pupils with SEND”").is_visible()
    assert page.get_by_text("No suggestions.").is_visible()
    entry = PortfolioEntry.objects.get()
    assert entry.development_need == world.need
    assert [o.title for o in entry.objectives.all()] == ["Lead the Year 9 reading programme"]

    press_and_load(page, page.get_by_role("link", name="Add or delete evidence"), "Enter")
    scan = tmp_path / "certificate.pdf"
    scan.write_bytes(image_bytes("PNG"))
    page.get_by_label("Evidence file").set_input_files(str(scan))
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()
    assert page.get_by_text("Uploaded “certificate.pdf” as a PNG image").is_visible()
    assert EvidenceFile.objects.get().extension == ".png"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="certificate.pdf", exact=True).click()
    download = download_info.value
    assert download.suggested_filename == "certificate.png"
    assert Path(download.path()).read_bytes() == image_bytes("PNG")
