"""Fixtures and helpers shared by the report run tests.

A test module uses the fixtures by importing them, so pytest finds them in its
namespace.
"""

from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from reports.models import ReportRun, report_storage
from reports.tasks import run_file_name

from .factories_attstats import whole_year_term
from .personas import TODAY, Personas, build_personas


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def reports_root(settings, tmp_path) -> Path:
    """Keep each test's report files in its own directory."""
    root = tmp_path / "reports"
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    return root


@pytest.fixture
def world() -> Personas:
    built = build_personas()
    whole_year_term(built.academic_year)
    return built


def mark_done(run: ReportRun, content: bytes, filename: str, **fields: Any) -> ReportRun:
    """Give `run` a stored file named `filename` for download and mark it done,
    as the task does. `fields` sets further columns, such as started_at."""
    name = report_storage().save(run_file_name(run.pk), ContentFile(content))
    ReportRun.objects.filter(pk=run.pk).update(
        status=ReportRun.Status.DONE,
        progress=100,
        file=name,
        filename=filename,
        size_bytes=len(content),
        pages=1,
        finished_at=timezone.now(),
        **fields,
    )
    run.refresh_from_db()
    return run
