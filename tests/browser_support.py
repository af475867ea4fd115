"""Shared pieces of the Playwright tests, which drive Debian's Chromium.

Playwright's own browser download is not available on these machines, so
the tests launch /usr/bin/chromium, which `make test` installs.
"""

# Without the background-networking flags Chromium keeps trying to reach
# Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "trust-demo"


def log_in(page, username: str) -> None:
    """Log in through the login page as a demo user."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
