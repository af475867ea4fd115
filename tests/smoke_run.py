"""Smoke run of the embedded default: SQLite, tasks run eagerly.

Run in a fresh process by tests/test_smoke_sqlite.py with no DATABASE_URL
or REDIS_URL, so settings fall back to what `make demo` uses. It loads the
demo trust, logs in as every demo login, and opens the landing page, every
navigation link, and the academy, pupil and staff pages each role can
reach. Then every role opens every dashboard (trust, each academy, each
year group), which must return the page or 404, never an error. Last, the
trust leader produces one governance PDF through the Reports page, with its
task run in the web process. It prints one line per failure and exits 1 if
there was any.
"""

import datetime
import os
import re
import sys

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "trust.settings"
django.setup()

import time_machine  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from trust.navigation import nav_items  # noqa: E402

LOGINS = [
    "trust.leader",
    "trust.admin",
    "trust.hr",
    "trustee",
    "head",
    "academy.leader",
    "attendance",
    "safeguarding",
    "hoy",
    "tutor",
    "teacher",
    "staff",
]
# Links that are actions or downloads, not pages to open here.
SKIPPED_LINK = re.compile(r"^(#|mailto:|/accounts/logout|/static/|/media/|https?:)")
DETAIL_LINK = re.compile(r'href="(/(?:academies|pupils|staff)/[^"?#]*\d+/[^"?#]*)"')


def first_links(html: str) -> list[str]:
    """Return the first link of each kind (academy, pupil, staff, PDF) in `html`."""
    chosen: dict[str, str] = {}
    for link in DETAIL_LINK.findall(html):
        kind = "pdf" if link.endswith(".pdf") else link.split("/")[1]
        chosen.setdefault(kind, link)
    return list(chosen.values())


def main() -> int:
    setup_test_environment()
    with time_machine.travel(datetime.datetime(2026, 12, 4, 9, 30), tick=True):
        call_command("migrate", verbosity=0)
        call_command(
            "seed_demo",
            academies=3,
            pupils_per_academy=40,
            seed=3,
            today=datetime.date(2026, 12, 4),
            verbosity=0,
        )
        failures, opened = check_pages()
        dashboard_failures, dashboards = check_dashboards()
        failures += dashboard_failures + check_report()
    for failure in failures:
        sys.stdout.write(failure + "\n")
    for username, count in opened.items():
        sys.stdout.write(f"{username}: {count} pages opened\n")
    for username, count in dashboards.items():
        sys.stdout.write(f"{username}: {count} dashboards shown\n")
    sys.stdout.write(f"smoke: {len(failures)} failures\n")
    return 1 if failures else 0


def check_pages() -> tuple[list[str], dict[str, int]]:
    failures: list[str] = []
    counts: dict[str, int] = {}
    users = get_user_model().objects
    for username in LOGINS:
        client = Client()
        if not client.login(username=username, password="trust-demo"):
            failures.append(f"{username}: login failed")
            continue
        response = client.get("/", follow=True)
        if response.status_code != 200:
            failures.append(f"{username}: landing page answered {response.status_code}")
            continue

        # Open the navigation, then follow the first academy, pupil and staff
        # link (and the PDF links) of each page, two levels deep.
        opened: set[str] = set()
        queue = [(item.url, 0) for item in nav_items(users.get(username=username))]
        queue += [(link, 1) for link in first_links(response.content.decode())]
        while queue and len(opened) < 40:
            url, depth = queue.pop(0)
            if url in opened or SKIPPED_LINK.match(url):
                continue
            opened.add(url)
            page = client.get(url)
            if page.status_code != 200:
                failures.append(f"{username}: {url} answered {page.status_code}")
                continue
            if url.endswith(".pdf"):
                if not page.content.startswith(b"%PDF"):
                    failures.append(f"{username}: {url} is not a PDF")
                continue
            if depth < 2 and "text/html" in page.get("Content-Type", ""):
                queue += [(link, depth + 1) for link in first_links(page.content.decode())]
        counts[username] = len(opened)
    return failures, counts


def dashboard_urls() -> list[str]:
    from django.urls import reverse

    from academies.models import Academy, YearGroup

    urls = [reverse("trust-dashboard")]
    urls += [
        f"{reverse('academy-dashboard')}?academy={pk}"
        for pk in Academy.objects.values_list("pk", flat=True)
    ]
    urls += [
        reverse("year-group-dashboard", args=[pk])
        for pk in YearGroup.objects.values_list("pk", flat=True)
    ]
    return urls


def check_dashboards() -> tuple[list[str], dict[str, int]]:
    """Open every dashboard as every role: the page when in scope, 404 otherwise."""
    failures: list[str] = []
    shown: dict[str, int] = {}
    urls = dashboard_urls()
    for username in LOGINS:
        client = Client()
        client.login(username=username, password="trust-demo")
        shown[username] = 0
        for url in urls:
            status = client.get(url).status_code
            if status == 200:
                shown[username] += 1
            elif status != 404:
                failures.append(f"{username}: {url} answered {status}")
    return failures, shown


def check_report() -> list[str]:
    """Request a governance report as the trust leader and download its PDF."""
    from reports.models import ReportRun

    client = Client()
    client.login(username="trust.leader", password="trust-demo")
    response = client.post("/reports/", {"kind": "governance"})
    if response.status_code != 302:
        return [f"trust.leader: requesting a governance report answered {response.status_code}"]
    run = ReportRun.objects.order_by("-pk").first()
    if run is None or run.status != ReportRun.Status.DONE:
        return [
            f"trust.leader: the governance report run is {run and run.status}: {run and run.error}"
        ]
    download = client.get(f"/reports/runs/{run.pk}/download/")
    content = b"".join(download.streaming_content) if download.streaming else download.content
    if download.status_code != 200 or not content.startswith(b"%PDF"):
        return [f"trust.leader: the governance report download answered {download.status_code}"]
    sys.stdout.write(f"smoke: governance report of {run.pages} pages\n")
    return []


if __name__ == "__main__":
    sys.exit(main())
