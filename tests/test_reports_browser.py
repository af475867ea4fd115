"""Report runs in headless Chromium, produced by a real Celery worker.

A trust leader walks from the trust dashboard down to a year group, then
requests that year group's intervention report and watches its progress bar
move by htmx polling while the worker is held at a step. A trustee requests
the governance report, which names no pupil, and cannot open a pupil's pages.
The worker reads the pytest database, so the tests are transactional.
"""

import datetime
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from reports.models import ReportRun
from trust import tasks_support

from .browser_support import DEMO_PASSWORD, log_in
from .factories_attstats import mark_days, whole_year_term
from .personas import TODAY, Personas, build_personas
from .test_reports_documents import Grades
from .test_reports_worker import reports_root, workers  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]

# The intervention report passes this step at 60%, after reading the figures
# and before laying out the PDF.
MID_STEP = "report-grouping-the-pupils-by-reason"
FIRST_MONDAY = datetime.date(2026, 11, 2)
# Pupils the reports may name: two below TMG and one persistently absent.
NAMES = ["Aoife O'Brien", "Isla Patel", "Noah Smith-Jones"]
# Long enough for a worker to start and build a small report on a busy machine.
WAIT_MS = 90_000


@pytest.fixture
def world() -> Iterator[Personas]:
    with time_machine.travel(TODAY, tick=True):
        world = build_personas()
        whole_year_term(world.academic_year)
        grades = Grades(world)
        grades.below(world.pupils["oak9a_obrien"], "gcse_maths")
        grades.below(world.pupils["oak9b_patel"], "gcse_english_language", grade="3")
        # Four sessions missed out of ten: 60% attendance, persistently absent.
        mark_days(world.pupils["oak9a_smithjones"], FIRST_MONDAY, ["N"] * 4 + ["/"] * 6)
        for key in ("trust_leader", "trustee"):
            user = world.users[key]
            user.set_password(DEMO_PASSWORD)
            user.save()
        yield world


@pytest.fixture
def page(browser, live_server, world) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "download.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    # pdftotext breaks table cells over lines, so the words are joined by single spaces.
    return " ".join(result.stdout.decode().split())


def download_pdf(page: Page, tmp_path: Path) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"^Download ")).click()
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    return pdf


def follow_by_keyboard(page: Page, name: str | re.Pattern[str]) -> None:
    link = page.get_by_role("link", name=name).first
    link.focus()
    page.keyboard.press("Enter")


def test_leader_watches_report_progress(page, world, workers, tmp_path):  # noqa: F811
    oak = world.academies["oak"]
    year_9 = world.year_groups["oak9"]
    tasks_support.hold_at(MID_STEP)
    workers.start()

    log_in(page, "trust.leader")
    page.goto("/trust/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Trust dashboard")
    follow_by_keyboard(page, "Oak Academy")
    expect(page.get_by_role("heading", level=1)).to_have_text("Academy dashboard: Oak Academy")
    follow_by_keyboard(page, re.compile(r"^Year 9"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Year group dashboard: Year 9.*Oak Academy")
    )
    assert page.url.endswith(f"/dashboards/year-groups/{year_9.pk}/")

    # The dashboards link to no request form, so the leader takes the menu's Reports link.
    follow_by_keyboard(page, re.compile(r"^Reports$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    page.get_by_label("Academy or year group").select_option(f"year_group-{year_9.pk}")
    page.get_by_role("button", name="Request the intervention report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Intervention report: .*Year 9")
    )

    # The step shows only once the worker is held there, until release.
    expect(page.locator("#report-step")).to_have_text(
        "Grouping the pupils by reason", timeout=WAIT_MS
    )
    run = ReportRun.objects.get()
    hold_info = tasks_support.reached(MID_STEP)
    assert hold_info is not None, workers.logs()
    assert hold_info["run_id"] == run.pk
    value = int(page.locator("#report-progress").get_attribute("value") or "0")
    assert 0 < value < 100
    # Every later swap must come from htmx, so a reload would lose this mark.
    page.evaluate("window.notReloaded = true")

    tasks_support.release(MID_STEP)
    expect(page.locator("#report-progress")).to_have_attribute("value", "100", timeout=WAIT_MS)
    expect(page.locator("#report-run-state")).to_have_text("The report is ready to download.")
    assert page.evaluate("window.notReloaded") is True

    text = pdf_text(download_pdf(page, tmp_path), tmp_path)
    assert f"Intervention report: Year 9, {oak.name}" in text
    for name in NAMES:
        assert name in text


def test_trustee_governance_report_no_pupils(page, world, workers, tmp_path):  # noqa: F811
    workers.start()

    log_in(page, "trustee")
    page.goto("/reports/")
    page.get_by_role("button", name="Request the governance report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Governance report"))
    expect(page.locator("#report-progress")).to_have_attribute("value", "100", timeout=WAIT_MS)

    text = pdf_text(download_pdf(page, tmp_path), tmp_path)
    assert "Governance report" in text
    for name in NAMES:
        assert name not in text
        assert name.split()[-1] not in text

    patel = world.pupils["oak9b_patel"]
    for url in (f"/pupils/{patel.pk}/overview/", f"/pupils/{patel.pk}/"):
        response = page.goto(url)
        assert response is not None
        assert response.status == 404, url
