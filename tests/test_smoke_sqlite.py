"""The embedded default (SQLite, eager tasks) stays a working product."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.smoke


def test_demo_pages_open_for_every_role(tmp_path):
    dropped = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["SQLITE_PATH"] = str(tmp_path / "smoke.sqlite3")
    env["TRUST_VAR_DIR"] = str(tmp_path / "var")

    result = subprocess.run(
        [sys.executable, "-m", "tests.smoke_run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "smoke: 0 failures" in result.stdout
    opened = dict(
        line.split(": ") for line in result.stdout.splitlines() if line.endswith(" pages opened")
    )
    assert len(opened) == 12
    # Every role reaches at least its landing page and My appraisal.
    for username, text in opened.items():
        assert int(text.split()[0]) >= 2, username
    dashboards = dict(
        line.split(": ")
        for line in result.stdout.splitlines()
        if line.endswith(" dashboards shown")
    )
    assert len(dashboards) == 12
    # Trust-wide roles see every dashboard; the head of year sees their year only.
    assert int(dashboards["trust.leader"].split()[0]) > int(dashboards["hoy"].split()[0]) > 0
    assert int(dashboards["trustee"].split()[0]) == int(dashboards["trust.leader"].split()[0])
    assert "smoke: governance report of" in result.stdout
