import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's async
# safety check would otherwise reject ORM calls made beside it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _redis_database_per_worker():
    """Give each pytest-xdist process (gw0, gw1, ...) its own Redis database.

    Tests that empty the cache or consume broker messages then touch only
    their own process's data. Django is set up before xdist names the
    process, so the settings are moved here rather than in the settings file.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        yield
        return
    from django.conf import settings
    from django.test.utils import override_settings

    from trust.celery import app

    base, _, number = settings.REDIS_URL.rpartition("/")
    url = f"{base}/{int(number or 0) - int(worker[2:])}"
    cache = {**settings.CACHES["default"], "LOCATION": url}
    # override_settings sends setting_changed, which makes Django reopen caches.
    with override_settings(REDIS_URL=url, CACHES={**settings.CACHES, "default": cache}):
        app.conf.broker_url = url
        app.conf.result_backend = url
        yield


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, launched once per test module that asks for it."""
    from playwright.sync_api import sync_playwright

    from .browser_support import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
