"""Time a 10,000-pupil import on the database DATABASE_URL names.

Run from the project root against a scratch database (it creates an
academy with URN 199999 and writes 10,000 pupils):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scratch \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scratch \\
        .venv/bin/python tests/data/imports/bench_pupil_import.py [ROWS]

It times three confirms: a first import of new pupils, the same file again
(nothing changes), and a file in which every pupil changes surname, tutor
group and FSM a week later (every enrolment ends and restarts). The CSV is
generated in memory and is not kept.
"""

import csv
import datetime
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trust.settings")

import django

django.setup()

from academies.models import Academy, Trust  # noqa: E402
from pupils.services import pupil_import_apply  # noqa: E402
from pupils.upn import check_letter  # noqa: E402

HEADER = ["UPN", "Legal Surname", "Legal Forename", "Date of Birth", "Sex", "Year",
          "Reg Group", "SEN", "FSM", "EAL"]  # fmt: skip


def make_upn(index: int) -> str:
    body = f"999{9000 + index // 100000:04d}{index % 100000:05d}"
    return check_letter(body) + body


def pupil_file(rows: int, *, changed: bool) -> bytes:
    lines = [HEADER]
    for i in range(rows):
        year = 7 + i % 5
        dob = datetime.date(2026 - year - 5, 1 + i % 12, 1 + i % 28)
        group = "ABCDEFGH"[(i + changed) % 8]
        fsm = (i % 4 == 0) != changed
        lines.append([
            make_upn(i), f"Surname{i}{'Z' if changed else ''}", f"Forename{i}",
            f"{dob:%d/%m/%Y}", "MF"[i % 2], str(year), f"{year}{group}",
            "K" if i % 7 == 0 else "N", "Yes" if fsm else "No", "No",
        ])  # fmt: skip
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    return buffer.getvalue().encode()


def main(rows: int) -> None:
    trust, _ = Trust.objects.get_or_create(name="Benchmark Trust")
    academy, _ = Academy.objects.get_or_create(
        urn="199999",
        defaults={
            "trust": trust, "name": "Benchmark Academy", "dfe_number": "999/9999",
            "phase": "secondary", "age_range_low": 11, "age_range_high": 18,
            "joined_trust_on": datetime.date(2015, 9, 1),
        },
    )  # fmt: skip
    day = datetime.date(2026, 10, 12)
    runs = [
        ("first import", pupil_file(rows, changed=False), day),
        ("same file again", pupil_file(rows, changed=False), day),
        ("every pupil changed", pupil_file(rows, changed=True), day + datetime.timedelta(7)),
    ]
    for label, content, on in runs:
        started = time.perf_counter()
        result = pupil_import_apply(
            academy=academy, content=content, filename="bench.csv", user=None, import_date=on
        )
        seconds = time.perf_counter() - started
        print(f"{label}: {rows} rows in {seconds:.1f} s ({result})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
