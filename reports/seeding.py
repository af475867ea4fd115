"""Seed England's national figures from the DfE file shipped with the project.

Rows are created only where none exists for that year and phase, so an
administrator's corrections are kept. It runs after every migrate, because
tests that flush the database remove migration-seeded rows.
"""

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS

DATA = Path(__file__).resolve().parent / "data" / "attendance-england-2025-26-year-to-date.csv"
SOURCE = (
    "DfE pupil attendance in schools, England, academic year to date "
    "(published figures, pupils aged 5 to 15)"
)
PHASES = {"Primary": "primary", "Secondary": "secondary", "Special": "special", "Total": "total"}


def _one_decimal(text: str) -> Decimal | None:
    if not text:
        return None
    return Decimal(text).quantize(Decimal("0.1"))


def national_rows() -> list[dict[str, Any]]:
    """Return the national rows of the DfE file as NationalFigure field values.

    The file gives no severe absence or suspension rate, so those stay empty
    until an administrator enters them.
    """
    rows = []
    with DATA.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            phase = PHASES.get(row["education_phase"])
            if row["geographic_level"] != "National" or phase is None:
                continue
            period = row["time_period"]
            rows.append(
                {
                    "start_year": int(period[:4]),
                    "phase": phase,
                    "period": "Academic year to date",
                    "attendance_rate": _one_decimal(row["attendance_perc"]),
                    "persistent_absence_rate": _one_decimal(row.get("pa_perc", "")),
                    "source": SOURCE,
                }
            )
    return rows


def reseed(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """Create the national rows of the DfE file that the database `using` lacks.

    Connected to post_migrate, which passes the alias it migrated.
    """
    from .models import NationalFigure

    figures = NationalFigure.objects.using(using)
    existing = set(figures.values_list("start_year", "phase"))
    missing = [
        NationalFigure(**row)
        for row in national_rows()
        if (row["start_year"], row["phase"]) not in existing
    ]
    figures.bulk_create(missing, ignore_conflicts=True)
