"""Measure the performance budgets of DESIGN.md on a seeded trust.

Run through `make bench` (SCALE=small by default, SCALE=large for 60
academies and 50,040 pupils). The benchmark rebuilds its own PostgreSQL
database (trust_bench unless BENCH_DATABASE_URL names another), seeds it,
then times pages in process with Django's test client, so the figures are
server time without a network or a browser. Beside the pages it times the
same aggregates written by hand in SQL, over the summary tables (the floor
a page is held to: its p95 at most FLOOR_FACTOR times the floor's) and over
the raw register marks (the naive contrast). Results print as a table and
are written to var/bench/results.json and to the scale's section of
docs/benchmarks.md.
"""

import argparse
import csv
import datetime
import io
import itertools
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/trust_bench"
DOC_PATH = ROOT / "docs" / "benchmarks.md"
OUT_DIR = ROOT / "var" / "bench"
# The seed's "today": a Friday in term, so every page has a school day to show.
BENCH_TODAY = datetime.date(2026, 12, 4)
SCALES = {
    "small": ["--academies", "6", "--pupils-per-academy", "300"],
    # Loading every mark of the seed's default span (last academic year and
    # this one to date) for the large trust took 25 minutes on a 2-core
    # machine. So the large run loads the last 14 weeks, which hold this
    # academic year to date in full and nothing of the year before.
    "large": ["--academies", "60", "--pupils-per-academy", "834", "--attendance-weeks", "14"],
}
PASSWORD = "trust-demo"
# A dashboard's p95 may be at most this many times the p95 of the hand-written
# SQL that computes the same aggregates from the summary tables.
FLOOR_FACTOR = 3
# Governance PDFs built per run, each in a fresh process.
PDF_REPEATS = {"small": 3, "large": 2}
# Requests per dashboard: the large trust's take seconds each, so fewer.
DASHBOARD_REPEATS = {"small": 20, "large": 10}
PDF_BUDGET_S = 60
PDF_BUDGET_MB = 1024


def peak_child_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def peak_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def address_space_peak_mb() -> float:
    """Return the peak resident set size of this process's own address space.

    Linux keeps ru_maxrss across fork and exec, so a child started by a large
    parent reports at least the parent's size. VmHWM in /proc/self/status
    starts afresh with the address space that exec creates.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_self_mb()


def percentile_95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# Seeding ------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def run_seed(env: dict[str, str], scale: str) -> dict[str, Any]:
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    started = time.perf_counter()
    command = [python, "manage.py", "seed_demo", *SCALES[scale], "--seed", "1"]
    command += ["--today", BENCH_TODAY.isoformat()]
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "peak_mb": round(peak_child_mb()),
        "arguments": " ".join(command[3:]),
    }


def table_sizes() -> dict[str, int]:
    """Count the rows the pages and the SQL read, to state the scale measured."""
    from django.db import connection

    tables = {
        "academies": "academies_academy",
        "pupils": "pupils_pupil",
        "staff": "staff_staffmember",
        "attendance marks": "attendance_attendancemark",
        "pupil week summaries": "attendance_pupilweeksummary",
        "pupil year summaries": "attendance_pupilyearsummary",
        "behaviour incidents": "behaviour_incident",
        "grade entries": "progress_gradeentry",
    }
    sizes = {}
    with connection.cursor() as cursor:
        for label, table in tables.items():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            sizes[label] = cursor.fetchone()[0]
    return sizes


# Timing -------------------------------------------------------------------------------


class Timer:
    """A recorder of the server times and query counts of repeated requests."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def measure(
        self,
        name: str,
        call: Callable[[int], Any],
        *,
        repeat: int,
        budget_ms: float | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        from django.db import connection, reset_queries

        times: list[float] = []
        queries: list[int] = []
        status = 0
        for index in range(repeat):
            reset_queries()
            started = time.perf_counter()
            response = call(index)
            times.append((time.perf_counter() - started) * 1000)
            queries.append(len(connection.queries))
            status = getattr(response, "status_code", 200)
        p95 = percentile_95(times)
        row = {
            "name": name,
            "status": status,
            "repeat": repeat,
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(p95, 1),
            "queries_min": min(queries),
            "queries_max": max(queries),
            "budget_ms": budget_ms,
            "within_budget": None if budget_ms is None else p95 <= budget_ms,
            **extra,
        }
        self.rows.append(row)
        return row


# Pages --------------------------------------------------------------------------------


def page_url(name: str, args: Sequence[Any] = (), query: str = "") -> str | None:
    """Return the path of URL name `name`, or None (with a printed note) when
    no URL of that name is defined yet."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=list(args)) + query
    except NoReverseMatch:
        print(f"skipped: URL name {name!r} is not defined yet")
        return None


def measure_dashboards(timer: Timer, clients: dict[str, Any], scope: dict[str, Any]) -> list[str]:
    """Time the trust, academy and year group dashboards and the pupil overview.

    Returns a note for each page that could not be measured.
    """
    pages = [
        ("trust dashboard", "leader", "trust-dashboard", [], "", 300, "trust"),
        (
            "academy dashboard",
            "head",
            "academy-dashboard",
            [],
            f"?academy={scope['academy_id']}",
            300,
            "academy",
        ),
        (
            "year group dashboard",
            "head",
            "year-group-dashboard",
            [scope["year_group_id"]],
            "",
            300,
            "year group",
        ),
    ]
    skipped = []
    for label, who, name, args, query, budget, floor_scope in pages:
        path = page_url(name, args, query)
        if path is None:
            skipped.append(f"{label}: URL name {name!r} is not defined")
            continue
        client = clients[who]
        status = client.get(path).status_code
        if status != 200:
            print(f"skipped: {label} at {path} answered {status}")
            skipped.append(f"{label}: {path} answered HTTP {status}")
            continue

        def open_page(index: int, client: Any = client, path: str = path) -> Any:
            return client.get(path)

        timer.measure(
            label, open_page, repeat=scope["repeat"], budget_ms=budget, floor_scope=floor_scope
        )

    pupils = scope["pupil_ids"]
    if page_url("pupil-overview", [pupils[0]]) is None:
        skipped.append("pupil overview: URL name 'pupil-overview' is not defined")
    else:
        status = clients["head"].get(page_url("pupil-overview", [pupils[0]])).status_code
        if status == 200:
            timer.measure(
                "pupil overview",
                lambda i: clients["head"].get(
                    page_url("pupil-overview", [pupils[i % len(pupils)]])
                ),
                repeat=30,
                budget_ms=150,
            )
        else:
            print(f"skipped: pupil overview answered {status}")
            skipped.append(f"pupil overview: answered HTTP {status}")
    return skipped


def measure_pages(timer: Timer, scope: dict[str, Any]) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.test import Client

    from academies.models import TutorGroup
    from attendance.models import AttendanceMark
    from pupils.models import Enrolment, active_on

    def client_for(username: str) -> Client:
        client = Client()
        user = User.objects.get(username=username)
        client.force_login(user)
        return client

    leader = client_for("trust.leader")
    head = client_for("head")
    hoy = client_for("hoy")
    pupils = scope["pupil_ids"]

    skipped = measure_dashboards(timer, {"leader": leader, "head": head}, scope)
    timer.measure("my year today", lambda i: hoy.get("/my-year/"), repeat=20)
    timer.measure(
        "pupil profile",
        lambda i: head.get(f"/pupils/{pupils[i % len(pupils)]}/"),
        repeat=30,
        budget_ms=150,
    )
    timer.measure(
        "pupil profile PDF",
        lambda i: head.get(f"/pupils/{pupils[i % len(pupils)]}/profile.pdf"),
        repeat=5,
        budget_ms=2000,
    )
    for path, label in [
        ("/behaviour/pupils/{}/", "behaviour timeline"),
        ("/progress/pupils/{}/", "pupil progress"),
    ]:
        if head.get(path.format(pupils[0])).status_code == 200:

            def open_page(index: int, path: str = path) -> Any:
                return head.get(path.format(pupils[index % len(pupils)]))

            timer.measure(label, open_page, repeat=20)

    academy_id = scope["academy_id"]
    for label, client, path in [
        ("behaviour analysis (academy)", head, f"/behaviour/academies/{academy_id}/analysis/"),
        ("behaviour analysis (trust)", leader, "/behaviour/analysis/"),
        ("progress summary (academy)", head, f"/progress/academies/{academy_id}/summary/"),
        ("progress summary (trust)", leader, "/progress/summary/"),
    ]:
        if client.get(path).status_code == 200:

            def open_dashboard(index: int, client: Client = client, path: str = path) -> Any:
                return client.get(path)

            timer.measure(label, open_dashboard, repeat=10, budget_ms=300)

    # Appraisal: a teacher's own page with its live measures, the trust's
    # completion view and the list of every appraisal trust HR reads.
    hr = client_for("trust.hr")
    teacher = client_for("teacher")
    for label, client, path in [
        ("my appraisal", teacher, "/my-appraisal/"),
        ("appraisal completion (trust)", leader, "/appraisal/completion/trust/"),
        ("appraisals list (trust HR)", hr, "/appraisal/appraisees/"),
    ]:
        if client.get(path).status_code == 200:

            def open_appraisal(index: int, client: Client = client, path: str = path) -> Any:
                return client.get(path)

            timer.measure(label, open_appraisal, repeat=10, budget_ms=300)

    # Each tutor group's register saved once for this morning; the table names the median size.
    groups = [
        group
        for group in TutorGroup.objects.filter(
            academy_id=academy_id,
            academic_year__start_date__lte=BENCH_TODAY,
            academic_year__end_date__gte=BENCH_TODAY,
        )
        if not AttendanceMark.objects.filter(
            tutor_group=group, date=BENCH_TODAY, session="AM"
        ).exists()
    ]
    rosters = {
        group.pk: list(
            Enrolment.objects.filter(active_on(BENCH_TODAY), tutor_group=group).values_list(
                "pupil_id", flat=True
            )
        )
        for group in groups
    }
    # A real tutor group is 35 pupils at most; the import step's groups are larger.
    groups = [g for g in groups if 0 < len(rosters[g.pk]) <= 35]

    def save_register(index: int) -> Any:
        group = groups[index % len(groups)]
        data = {f"code_{pupil_id}": "/" for pupil_id in rosters[group.pk]}
        return head.post(f"/attendance/registers/{group.pk}/{BENCH_TODAY}/AM/", data)

    if groups:
        sizes = [len(rosters[g.pk]) for g in groups]
        timer.measure(
            f"register save ({statistics.median(sizes):.0f} pupils)",
            save_register,
            repeat=min(20, len(groups)),
            budget_ms=150,
        )
    else:
        skipped.append("register save: every tutor group's register was already taken")

    return {
        "pupils_sampled": len(pupils),
        "registers_saved": min(20, len(groups)),
        "skipped": skipped,
    }


def choose_scope() -> dict[str, Any]:
    """Pick the academy, year group and pupils the pages and the SQL are measured on:
    the headteacher's academy, one of its year groups, and 30 of its pupils."""
    from django.db.models import Case, Count, Q, When

    from academies.models import AcademicYear, Academy, YearGroup
    from pupils.models import Enrolment, active_on

    academy = Academy.objects.filter(staff__user__username="head").order_by("pk").first()
    if academy is None:
        raise SystemExit("The seed has no academy with the 'head' login, so nothing can be timed.")
    year_ids = list(
        AcademicYear.objects.filter(
            start_date__lte=BENCH_TODAY, end_date__gte=BENCH_TODAY
        ).values_list("pk", flat=True)
    )
    on_roll = Q(enrolments__start_date__lte=BENCH_TODAY) & (
        Q(enrolments__end_date__isnull=True) | Q(enrolments__end_date__gte=BENCH_TODAY)
    )
    # Year 9 is the year of the seed's head of year; otherwise the largest year group.
    year_group = (
        YearGroup.objects.filter(academy=academy)
        .annotate(pupils=Count("enrolments", filter=on_roll))
        .order_by(Case(When(nc_year=9, then=0), default=1), "-pupils", "nc_year")
        .first()
    )
    if year_group is None:
        raise SystemExit(f"Academy {academy.pk} has no year group, so nothing can be timed.")
    pupils = list(
        Enrolment.objects.filter(active_on(BENCH_TODAY), academy=academy)
        .order_by("pupil_id")
        .values_list("pupil_id", flat=True)
        .distinct()[:30]
    )
    return {
        "academy_id": academy.pk,
        "academy": academy.name,
        "year_group_id": year_group.pk,
        "year_group": str(year_group),
        "academic_year_ids": year_ids,
        "pupil_ids": pupils,
    }


# Hand-written SQL: the floor and the naive contrast ------------------------------------

CURRENT_YEARS = (
    "SELECT id FROM academies_academicyear WHERE start_date <= %(today)s AND end_date >= %(today)s"
)
# The DfE sums, over a summary row (s) or over raw marks (s) grouped per pupil.
SUMMARY_SUMS = (
    "SUM(s.present + s.approved_activity)",
    "SUM(s.present + s.approved_activity + s.authorised + s.unauthorised)",
)
MARK_SUMS = (
    "COUNT(*) FILTER (WHERE s.category IN ('present', 'aea'))",
    "COUNT(*) FILTER (WHERE s.category IN ('present', 'aea', 'authorised', 'unauthorised'))",
)

# Each scope: the rows' key in the source tables, the filter to the scope,
# and the outer grouping of the per-pupil figures. The year group is broken
# down by the pupil's sex, SEN status and EAL, as its dashboard is.
SCOPES: dict[str, dict[str, str]] = {
    "trust": {
        "key": "s.academy_id",
        "where": "TRUE",
        "group": "GROUP BY ROLLUP (pp.key)",
        "columns": "pp.key::text",
        "join": "",
    },
    "academy": {
        "key": "s.year_group_id",
        "where": "s.academy_id = %(academy)s",
        "group": "GROUP BY ROLLUP (pp.key)",
        "columns": "pp.key::text",
        "join": "",
    },
    "year group": {
        "key": "0",
        "where": "s.year_group_id = %(year_group)s",
        "group": "GROUP BY GROUPING SETS ((p.sex), (p.sen_status), (p.eal), ())",
        "columns": "concat_ws(' ', p.sex, p.sen_status, p.eal::text)",
        "join": "JOIN pupils_pupil p ON p.id = pp.pupil_id",
    },
}


def attendance_sql(scope: str, table: str, sums: tuple[str, str]) -> str:
    """Attendance rate, persistent and severe absence per row of `scope`, and the total.

    A pupil's persistent (10% or more missed) and severe (50% or more) absence
    rest on their own possible sessions, so sessions are summed per pupil
    first and the pupils counted after.
    """
    spec = SCOPES[scope]
    return f"""
        WITH pp AS (
            SELECT {spec["key"]} AS key, s.pupil_id,
                   {sums[0]} AS attended, {sums[1]} AS possible
            FROM {table} s
            WHERE s.academic_year_id IN ({CURRENT_YEARS}) AND {spec["where"]}
            GROUP BY 1, 2
        )
        SELECT {spec["columns"]}, SUM(pp.attended), SUM(pp.possible),
               COUNT(*) FILTER (WHERE pp.possible > 0),
               COUNT(*) FILTER (
                   WHERE pp.possible > 0 AND (pp.possible - pp.attended) * 10 >= pp.possible),
               COUNT(*) FILTER (
                   WHERE pp.possible > 0 AND (pp.possible - pp.attended) * 2 >= pp.possible)
        FROM pp {spec["join"]}
        {spec["group"]}
    """


def trust_year_attendance_sql() -> str:
    """Sum the trust's attendance from the year summaries, one row per pupil and
    academy, with no per-pupil step: the least work any page showing these figures can do."""
    return f"""
        SELECT s.academy_id, {SUMMARY_SUMS[0]}, {SUMMARY_SUMS[1]},
               COUNT(*) FILTER (WHERE s.present + s.approved_activity
                                      + s.authorised + s.unauthorised > 0),
               COUNT(*) FILTER (WHERE (s.authorised + s.unauthorised) * 10
                                      >= s.present + s.approved_activity
                                         + s.authorised + s.unauthorised
                                  AND s.present + s.approved_activity
                                      + s.authorised + s.unauthorised > 0),
               COUNT(*) FILTER (WHERE (s.authorised + s.unauthorised) * 2
                                      >= s.present + s.approved_activity
                                         + s.authorised + s.unauthorised
                                  AND s.present + s.approved_activity
                                      + s.authorised + s.unauthorised > 0)
        FROM attendance_pupilyearsummary s
        WHERE s.academic_year_id IN ({CURRENT_YEARS})
        GROUP BY ROLLUP (s.academy_id)
    """


def trend_sql(scope: str, table: str, sums: tuple[str, str]) -> str:
    """Sum the weekly attendance of each row of `scope` and of the whole scope."""
    spec = SCOPES[scope]
    if scope == "year group":
        key, grouping = "NULL", "GROUP BY s.week_start"
    else:
        key = spec["key"]
        grouping = f"GROUP BY GROUPING SETS (({key}, s.week_start), (s.week_start))"
    return f"""
        SELECT {key}, s.week_start, {sums[0]}, {sums[1]}
        FROM {table} s
        WHERE s.academic_year_id IN ({CURRENT_YEARS}) AND {spec["where"]}
        {grouping}
    """


# Behaviour has no summary table, so its base tables are the floor.
BEHAVIOUR_KEYS = {
    "trust": ("academy_id", "TRUE"),
    "academy": ("year_group_id", "academy_id = %(academy)s"),
    "year group": ("year_group_id", "year_group_id = %(year_group)s"),
}


def behaviour_sql(scope: str) -> list[str]:
    """Pupils on roll, negative incidents, pupils with one, and suspensions per row."""
    key, where = BEHAVIOUR_KEYS[scope]
    return [
        f"""
        SELECT {key}, COUNT(DISTINCT pupil_id) FROM pupils_enrolment
        WHERE start_date <= %(today)s AND (end_date IS NULL OR end_date >= %(today)s)
          AND {where}
        GROUP BY ROLLUP ({key})
        """,
        f"""
        SELECT {key}, COUNT(DISTINCT incident_id), COUNT(DISTINCT pupil_id)
        FROM behaviour_incidentpupil
        WHERE polarity = 'negative' AND academic_year_id IN ({CURRENT_YEARS}) AND {where}
        GROUP BY ROLLUP ({key})
        """,
        f"""
        SELECT {key}, COUNT(*), COUNT(DISTINCT pupil_id), SUM(sessions)
        FROM behaviour_suspension
        WHERE status = 'active' AND academic_year_id IN ({CURRENT_YEARS}) AND {where}
        GROUP BY ROLLUP ({key})
        """,
    ]


def progress_sql(scope: str) -> str:
    """Grade entries on or above their TMG at each year group's latest assessment
    point, per row and area (English, maths, other).

    NOTE: grades are compared by points on their own scales, without the
    grade equivalents progress.grades applies across scales, so the counts
    approximate the dashboard's; the work done (the same rows read) is the same.
    """
    key, where = BEHAVIOUR_KEYS[scope]
    return f"""
        WITH latest AS (
            SELECT DISTINCT ON (year_group_id) id FROM progress_assessmentpoint
            WHERE academic_year_id IN ({CURRENT_YEARS}) AND date <= %(today)s AND {where}
            ORDER BY year_group_id, date DESC, id DESC
        )
        SELECT e.{key},
               CASE WHEN q.element IN ('english_language', 'english_literature')
                         OR s.code = 'english' THEN 'english'
                    WHEN q.element = 'maths' OR s.code = 'maths' THEN 'maths'
                    ELSE 'other' END AS area,
               COUNT(*) FILTER (WHERE COALESCE(g.points, e.value) IS NOT NULL),
               COUNT(*) FILTER (
                   WHERE COALESCE(g.points, e.value) >= COALESCE(tg.points, t.value))
        FROM progress_gradeentry e
        JOIN latest ON latest.id = e.assessment_point_id
        JOIN progress_qualification q ON q.id = e.qualification_id
        JOIN progress_subject s ON s.id = q.subject_id
        LEFT JOIN progress_grade g ON g.id = e.grade_id
        LEFT JOIN progress_targetgrade t
               ON t.pupil_id = e.pupil_id AND t.qualification_id = e.qualification_id
              AND t.academic_year_id = e.academic_year_id
        LEFT JOIN progress_grade tg ON tg.id = t.grade_id
        GROUP BY ROLLUP (e.{key}, area)
    """


def sql_measures(scope: str) -> list[tuple[str, str, list[str]]]:
    """List the hand-written SQL of one scope as (name, source, statements), for
    the floor and the naive contrast."""
    if scope == "trust":
        attendance_floor = [trust_year_attendance_sql()]
    else:
        attendance_floor = [attendance_sql(scope, "attendance_pupilweeksummary", SUMMARY_SUMS)]
    week_table = "attendance_pupilweeksummary"
    mark_table = "attendance_attendancemark"
    return [
        ("attendance", "floor", attendance_floor),
        ("weekly trend", "floor", [trend_sql(scope, week_table, SUMMARY_SUMS)]),
        ("behaviour", "floor", behaviour_sql(scope)),
        ("progress", "floor", [progress_sql(scope)]),
        ("attendance", "naive", [attendance_sql(scope, mark_table, MARK_SUMS)]),
        ("weekly trend", "naive", [trend_sql(scope, mark_table, MARK_SUMS)]),
    ]


def measure_sql(timer: Timer, scope: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Time each scope's floor and naive SQL, and check that the attendance
    figures from the summaries equal those recounted from the marks."""
    from django.db import connection

    params = {
        "today": BENCH_TODAY,
        "academy": scope["academy_id"],
        "year_group": scope["year_group_id"],
    }
    agreement = {}
    for scope_name in SCOPES:
        results: dict[str, list[Any]] = {}
        for name, source, statements in sql_measures(scope_name):

            def run(index: int, statements: list[str] = statements) -> Any:
                rows = []
                with connection.cursor() as cursor:
                    for statement in statements:
                        cursor.execute(statement, params)
                        rows.append(cursor.fetchall())
                return rows

            timer.measure(
                f"SQL {source}: {name} ({scope_name})",
                run,
                repeat=repeat,
                sql_scope=scope_name,
                sql_source=source,
                sql_name=name,
            )
            results[f"{source} {name}"] = run(0)
        agreement[scope_name] = {
            "attendance": _totals(results["floor attendance"])
            == _totals(results["naive attendance"]),
            "weekly trend": set(results["floor weekly trend"][0])
            == set(results["naive weekly trend"][0]),
        }
    return agreement


def _totals(result: list[list[tuple[Any, ...]]]) -> tuple[Any, ...]:
    """Return the grand-total row of an attendance result: the one whose key is NULL."""
    rows = [row for row in result[0] if row[0] is None]
    return tuple(int(value or 0) for value in rows[-1][1:]) if rows else ()


def attach_floors(timer: Timer) -> None:
    """Give each dashboard row its floor: the sum of the p95s of its scope's floor SQL."""
    for row in timer.rows:
        scope = row.get("floor_scope")
        if not scope:
            continue
        parts = [
            r for r in timer.rows if r.get("sql_scope") == scope and r.get("sql_source") == "floor"
        ]
        if not parts:
            continue
        floor = sum(r["p95_ms"] for r in parts)
        row["floor_p95_ms"] = round(floor, 1)
        row["floor_ratio"] = round(row["p95_ms"] / floor, 1) if floor else None
        row["within_floor"] = row["p95_ms"] <= FLOOR_FACTOR * floor


# Governance PDF -----------------------------------------------------------------------


def build_governance_pdf() -> dict[str, Any]:
    """Build one governance PDF in this process and return its seconds and memory.

    Run as `bench.py --governance-pdf-child` by measure_governance_pdf, so each
    build starts from a fresh process and its peak memory is the build's own.
    """
    from django.contrib.auth.models import User

    from reports.documents import build_document
    from reports.models import ReportRun

    before_mb = address_space_peak_mb()
    leader = User.objects.get(username="trust.leader")
    run = ReportRun.objects.create(
        kind=ReportRun.Kind.GOVERNANCE,
        as_of=BENCH_TODAY,
        params={"as_of": BENCH_TODAY.isoformat()},
        requested_by=leader,
    )
    updates: list[float] = []

    def record_progress(percent: int, step: str) -> None:
        updates.append(time.perf_counter())

    started = time.perf_counter()
    document = build_document(run, record_progress)
    finished = time.perf_counter()
    # The longest interval without a progress update, as a user watching the run would wait.
    marks = [started, *updates, finished]
    longest_silence = max(later - earlier for earlier, later in itertools.pairwise(marks))
    return {
        "seconds": round(finished - started, 2),
        "peak_mb": round(address_space_peak_mb()),
        "before_build_mb": round(before_mb),
        "bytes": len(document.content),
        "pages": document.pages,
        "progress_updates": len(updates),
        "longest_silence_s": round(longest_silence, 2),
    }


def measure_governance_pdf(env: dict[str, str], repeat: int) -> dict[str, Any]:
    """Build the governance PDF `repeat` times, each in its own process."""
    try:
        import reports.documents  # noqa: F401
    except ImportError as exception:
        print(f"skipped: governance PDF, reports.documents cannot be imported ({exception})")
        return {"skipped": f"reports.documents cannot be imported: {exception}"}

    builds = []
    for _ in range(repeat):
        completed = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--governance-pdf-child"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0:
            error = completed.stderr.strip().splitlines()[-1:] or ["no output"]
            print(f"governance PDF failed: {error[0]}")
            return {"skipped": f"the build failed: {error[0]}"}
        builds.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    seconds = [b["seconds"] for b in builds]
    peak = max(b["peak_mb"] for b in builds)
    return {
        "repeat": repeat,
        "p50_s": round(statistics.median(seconds), 2),
        "max_s": max(seconds),
        "peak_mb": peak,
        "before_build_mb": max(b["before_build_mb"] for b in builds),
        "bytes": builds[-1]["bytes"],
        "pages": builds[-1]["pages"],
        "progress_updates": builds[-1]["progress_updates"],
        "longest_silence_s": max(b["longest_silence_s"] for b in builds),
        "budget_s": PDF_BUDGET_S,
        "budget_mb": PDF_BUDGET_MB,
        "within_budget": max(seconds) <= PDF_BUDGET_S and peak <= PDF_BUDGET_MB,
    }


# Import -------------------------------------------------------------------------------


def pupil_csv(count: int) -> bytes:
    from pupils.upn import check_letter

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        ["UPN", "Legal Surname", "Legal Forename", "Date of Birth", "Sex", "Year", "Reg Group"]
    )
    for index in range(count):
        body = f"916{7000 + index // 1000:04d}15{index % 1000:03d}"
        year = 7 + index % 5
        writer.writerow(
            [
                check_letter(body) + body,
                f"Benchmark{index}",
                f"Pupil{index}",
                f"01/10/{2019 - year}",
                "F" if index % 2 else "M",
                str(year),
                f"{year}Z",
            ]
        )
    return buffer.getvalue().encode()


def measure_import(count: int) -> dict[str, Any]:
    from academies.models import Academy
    from pupils.services import pupil_import_apply

    academy = Academy.objects.order_by("pk")[0]
    content = pupil_csv(count)
    started = time.perf_counter()
    pupil_import_apply(
        academy=academy, content=content, filename="bench.csv", user=None, import_date=BENCH_TODAY
    )
    first = time.perf_counter() - started
    started = time.perf_counter()
    pupil_import_apply(
        academy=academy, content=content, filename="bench.csv", user=None, import_date=BENCH_TODAY
    )
    again = time.perf_counter() - started
    return {
        "pupils": count,
        "first_import_s": round(first, 1),
        "unchanged_reimport_s": round(again, 1),
        "budget_s": 30,
        "within_budget": first <= 30,
    }


# Machine and output -------------------------------------------------------------------


def machine() -> dict[str, Any]:
    from django.db import connection

    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model or platform.processor() or "unknown",
        "memory_gib": round(memory_gib, 1),
        "postgresql": postgres,
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def print_table(results: dict[str, Any]) -> None:
    print(f"\n{'measure':<44} {'p50 ms':>8} {'p95 ms':>8} {'queries':>9} {'budget':>8}  ok")
    for row in results["timings"]:
        queries = f"{row['queries_min']}-{row['queries_max']}"
        budget = "" if row["budget_ms"] is None else f"{row['budget_ms']:.0f}"
        ok = {None: "", True: "yes", False: "NO"}[row["within_budget"]]
        times = f"{row['p50_ms']:>8} {row['p95_ms']:>8}"
        print(f"{row['name']:<44} {times} {queries:>9} {budget:>8}  {ok}")
        if "floor_p95_ms" in row:
            met = "yes" if row["within_floor"] else "NO"
            print(
                f"{'  floor p95 (x' + str(FLOOR_FACTOR) + ')':<44} {row['floor_p95_ms']:>17}"
                f" {row['floor_ratio']:>8}x {'':>8}  {met}"
            )
    pdf = results["governance_pdf"]
    if "skipped" in pdf:
        print(f"governance PDF: skipped, {pdf['skipped']}")
    else:
        print(
            f"governance PDF: {pdf['p50_s']} s median, {pdf['max_s']} s max, "
            f"peak {pdf['peak_mb']} MB"
        )
    imported = results["import"]
    print(
        f"import of {imported['pupils']:,} pupils: {imported['first_import_s']} s "
        f"(unchanged again: {imported['unchanged_reimport_s']} s, budget 30 s)"
    )


DOC_HEADER = """# Benchmarks

`make bench` (and `make bench SCALE=large`) rebuilds the benchmark database,
seeds a trust with `seed_demo` as of {today}, and times the pages in process
with Django's test client: server time, with no network and no browser. Each
page is opened 5 to 30 times; p50 is the median and p95 the 95th percentile
(of 10 requests, the slowest).
Queries are those the request sent to PostgreSQL.

Beside the dashboards, the same run times hand-written SQL for the same
aggregates (attendance rate, persistent and severe absence per academy and
trust total, the weekly trend, negative incidents, suspensions, grades on or
above TMG):

- the floor reads the attendance summary tables (pupil year and week
  summaries) and the behaviour and progress base tables, which have no
  summaries. A dashboard's p95 is held to at most {factor} times the sum of the
  p95s of its scope's floor queries. Staff absence and appraisal are not in
  the floor, so the floor is a little lower than the work a dashboard does;
- the naive contrast computes the attendance figures from the raw register
  marks, as a page would without summaries.

The budgets are the design's. A dashboard's p95 is under 300 ms, and a
register save of 30 pupils or a pupil page under 150 ms. The trust's
governance PDF takes under 60 s and 1 GiB, and an import of 10,000 pupils
under 30 s.

Each run records the load average at its start, which shows other work on
the same machine. The timings are those of one run, not an average of runs.
Each scale has its own section below, and a run replaces only its own
section. The raw figures of the latest run are in `var/bench/results.json`
(and of each scale in `var/bench/results-SCALE.json`).
"""


def busy_note(host: dict[str, Any]) -> list[str]:
    """Warn when other work shared the CPUs, since it inflates every timing."""
    load = host["load_average_at_start"][0]
    if load <= host["cpus"]:
        return []
    return [
        f"- The machine was busy: a load average of {load} on {host['cpus']} CPUs when the run "
        "started, from other work on the same machine. Every timing below is inflated by it, "
        "the pages and the SQL alike, so the ratios to the floor are fairer than the "
        "absolute times."
    ]


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:,.1f}"


def _met(value: bool | None) -> str:
    return {None: "", True: "yes", False: "**no**"}[value]


def markdown_section(results: dict[str, Any]) -> str:
    """Render one run as the Markdown section of its scale."""
    scale = results["scale"]
    host = results["machine"]
    lines = [f"## Scale: {scale}", ""]
    seed = results.get("seed")
    seeded = (
        f"`seed_demo {seed['arguments']}` in {seed['seconds']} s (peak {seed['peak_mb']} MB)"
        if seed
        else "a database seeded by an earlier run (`--skip-seed`)"
    )
    lines += [
        f"- Run: {results['started_at']}, seed {seeded}.",
        f"- Machine: {host['cpus']} CPUs ({host['cpu_model']}), {host['memory_gib']} GiB memory, "
        f"PostgreSQL {host['postgresql']}, Python {host['python']}; load average at the start "
        f"{', '.join(str(x) for x in host['load_average_at_start'])}.",
        *busy_note(host),
        "- Rows: " + ", ".join(f"{v:,} {k}" for k, v in results["sizes"].items()) + ".",
        f"- Measured on academy {results['scope']['academy']!r}, year group "
        f"{results['scope']['year_group']!r} and "
        f"{results['pages']['pupils_sampled']} of its pupils.",
    ]
    arguments = (seed["arguments"] if seed else "").split()
    if "--attendance-weeks" in arguments:
        weeks = arguments[arguments.index("--attendance-weeks") + 1]
        lines.append(
            f"- The seed writes register marks and behaviour incidents for the last {weeks} "
            f"weeks before {BENCH_TODAY:%d/%m/%Y} only (`--attendance-weeks {weeks}`), because "
            "loading last academic year's marks as well takes longer than the benchmark can "
            "wait. The naive SQL over marks slows as marks are added. The floor "
            "reads one row per pupil (year summaries) or per pupil and week, however many "
            "marks there are."
        )
    lines += ["", "### Pages", ""]
    lines += [
        "| Measure | p50 ms | p95 ms | Queries | Budget ms | Met | Floor p95 ms | p95 / floor "
        f"| Within {FLOOR_FACTOR}x floor |",
        "|---|--:|--:|--:|--:|---|--:|--:|---|",
    ]
    unmet = []
    pages = [row for row in results["timings"] if "sql_source" not in row]
    for row in pages:
        queries = (
            str(row["queries_min"])
            if row["queries_min"] == row["queries_max"]
            else f"{row['queries_min']}-{row['queries_max']}"
        )
        budget = "" if row["budget_ms"] is None else f"{row['budget_ms']:.0f}"
        ratio = "" if row.get("floor_ratio") is None else f"{row['floor_ratio']}x"
        lines.append(
            f"| {row['name']} | {_ms(row['p50_ms'])} | {_ms(row['p95_ms'])} | {queries} "
            f"| {budget} | {_met(row['within_budget'])} | {_ms(row.get('floor_p95_ms'))} "
            f"| {ratio} | {_met(row.get('within_floor'))} |"
        )
        if row["within_budget"] is False:
            unmet.append(
                f"The {row['name']} is over its budget: p95 {row['p95_ms']:,.0f} ms against "
                f"{row['budget_ms']:.0f} ms."
            )
        if row.get("within_floor") is False:
            unmet.append(
                f"The {row['name']} takes {row['floor_ratio']} times its SQL floor "
                f"(p95 {row['p95_ms']:,.0f} ms against {row['floor_p95_ms']:,.1f} ms), more than "
                f"the {FLOOR_FACTOR} times allowed."
            )
    for note in results["pages"]["skipped"]:
        lines.append(f"| {note.split(':')[0]} | not measured | | | | | | | |")
        unmet.append(f"Not measured: {note}.")

    lines += ["", "### Hand-written SQL", ""]
    lines += [
        "| Scope | Aggregate | Source | p50 ms | p95 ms | Statements |",
        "|---|---|---|--:|--:|--:|",
    ]
    sources = {
        "floor": "summaries (floor)",
        "naive": "raw marks (naive)",
    }
    for row in results["timings"]:
        if "sql_source" not in row:
            continue
        source = sources[row["sql_source"]]
        if row["sql_name"] in ("behaviour", "progress"):
            source = "base tables (floor)"
        lines.append(
            f"| {row['sql_scope']} | {row['sql_name']} | {source} | {_ms(row['p50_ms'])} "
            f"| {_ms(row['p95_ms'])} | {row['queries_max']} |"
        )
    disagreements = [
        f"{scope} {name}"
        for scope, checks in results["sql_agreement"].items()
        for name, same in checks.items()
        if not same
    ]
    lines.append("")
    if disagreements:
        lines.append(
            "The summaries and the marks give different figures for: "
            + ", ".join(disagreements)
            + "."
        )
        unmet.append("The summary tables do not equal a recount of the marks (see above).")
    else:
        lines.append(
            "The attendance figures from the summaries equal those recounted from the marks."
        )

    lines += ["", "### Governance PDF", ""]
    pdf = results["governance_pdf"]
    if "skipped" in pdf:
        lines.append(f"Not measured: {pdf['skipped']}.")
        unmet.append(f"The governance PDF was not measured: {pdf['skipped']}.")
    else:
        lines += [
            f"Built {pdf['repeat']} times with `reports.documents.build_document` on a governance "
            f"report run as of {BENCH_TODAY:%d/%m/%Y}, each time in a fresh Python process. Peak "
            "memory is that process's peak resident set size, read after the build from "
            "`VmHWM` in /proc/self/status. It counts Django and the PDF library as well as the "
            "Python heap. `ru_maxrss` is not used, because Linux carries a parent's peak into "
            f"its child. {pdf['before_build_mb']} MB was already in use before the build started. "
            f"The build reported its progress {pdf['progress_updates']} times; the longest "
            f"stretch without a new report was {pdf['longest_silence_s']} s.",
            "",
            "| Seconds p50 | Seconds max | Peak MB | Pages | Size KB | Budget | Met |",
            "|--:|--:|--:|--:|--:|---|---|",
            f"| {pdf['p50_s']} | {pdf['max_s']} | {pdf['peak_mb']} | {pdf['pages']} "
            f"| {round(pdf['bytes'] / 1024)} "
            f"| {pdf['budget_s']} s, {pdf['budget_mb']} MB | {_met(pdf['within_budget'])} |",
        ]
        if not pdf["within_budget"]:
            unmet.append(
                f"The governance PDF is over budget: {pdf['max_s']} s and {pdf['peak_mb']} MB "
                f"against {pdf['budget_s']} s and {pdf['budget_mb']} MB."
            )

    imported = results["import"]
    lines += [
        "",
        "### Pupil import",
        "",
        f"{imported['pupils']:,} pupils from CSV: {imported['first_import_s']} s "
        f"(budget {imported['budget_s']} s, met: {_met(imported['within_budget'])}); "
        f"the same file again, with nothing to change: {imported['unchanged_reimport_s']} s.",
    ]
    if not imported["within_budget"]:
        unmet.append(f"The import of {imported['pupils']:,} pupils is over its 30 s budget.")

    lines += ["", "### Budgets not met", ""]
    lines += [f"- {sentence}" for sentence in unmet] or ["Every budget measured was met."]
    return "\n".join(lines) + "\n"


def write_markdown(results: dict[str, Any]) -> None:
    """Replace this scale's section of docs/benchmarks.md, keeping the others."""
    sections: dict[str, str] = {}
    if DOC_PATH.exists():
        text = DOC_PATH.read_text()
        for scale in SCALES:
            begin, end = f"<!-- bench:{scale}:begin -->", f"<!-- bench:{scale}:end -->"
            if begin in text and end in text:
                sections[scale] = text.split(begin, 1)[1].split(end, 1)[0].strip("\n")
    sections[results["scale"]] = markdown_section(results).strip("\n")
    parts = [DOC_HEADER.format(today=f"{BENCH_TODAY:%d/%m/%Y}", factor=FLOOR_FACTOR)]
    for scale in SCALES:
        if scale in sections:
            parts.append(
                f"<!-- bench:{scale}:begin -->\n{sections[scale]}\n<!-- bench:{scale}:end -->\n"
            )
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text("\n".join(parts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the seeded database")
    parser.add_argument("--governance-pdf-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "trust.settings"}
    env.pop("REDIS_URL", None)
    env["REPORTS_ROOT"] = str(OUT_DIR / "reports")
    results: dict[str, Any] = {
        "scale": args.scale,
        "today": BENCH_TODAY.isoformat(),
        "started_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if not args.skip_seed and not args.governance_pdf_child:
        recreate_database(url)
        results["seed"] = run_seed(env, args.scale)
        print(f"seed: {results['seed']['seconds']} s, peak {results['seed']['peak_mb']} MB")

    os.environ.update(
        {k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "REPORTS_ROOT")}
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django
    import time_machine
    from django.conf import settings
    from django.db import connection

    django.setup()
    if args.governance_pdf_child:
        # No time travel here: the run carries its "as of" date, and under
        # time_machine the build once grew past 4 GB without finishing.
        print(json.dumps(build_governance_pdf()))
        return 0

    # The register saves and the import log a line per call at INFO.
    logging.disable(logging.INFO)
    # Log every query for the counts without DEBUG, which would slow the templates.
    connection.force_debug_cursor = True
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]

    results["machine"] = machine()
    results["sizes"] = table_sizes()
    scope = {**choose_scope(), "repeat": DASHBOARD_REPEATS[args.scale]}
    results["scope"] = {k: v for k, v in scope.items() if k not in ("pupil_ids", "repeat")}
    timer = Timer()
    with time_machine.travel(datetime.datetime(2026, 12, 4, 10, 0), tick=True):
        results["pages"] = measure_pages(timer, scope)
        results["sql_agreement"] = measure_sql(timer, scope, repeat=10)
        attach_floors(timer)
        results["governance_pdf"] = measure_governance_pdf(env, PDF_REPEATS[args.scale])
        results["import"] = measure_import(10_000)
    results["timings"] = timer.rows
    results["peak_mb_benchmark_process"] = round(peak_self_mb())

    print_table(results)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (OUT_DIR / f"results-{args.scale}.json").write_text(json.dumps(results, indent=2, default=str))
    write_markdown(results)
    print(f"written to {OUT_DIR / 'results.json'} and {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
