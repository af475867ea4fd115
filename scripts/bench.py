"""Measure the performance budgets of DESIGN.md on a seeded trust.

Run through `make bench` (SCALE=small by default, SCALE=large for 60
academies and 50,040 pupils). The benchmark rebuilds its own PostgreSQL
database (trust_bench unless BENCH_DATABASE_URL names another), seeds it,
then times pages in process with Django's test client, so the figures are
server time without a network or a browser. Results print as a table and
are written to var/bench/results.json.
"""

import argparse
import csv
import datetime
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/trust_bench"
# The seed's "today": a Friday in term, so every page has a school day to show.
BENCH_TODAY = datetime.date(2026, 12, 4)
SCALES = {
    "small": ["--academies", "6", "--pupils-per-academy", "300"],
    # Every mark of a large trust took 25 minutes to load when measured on a
    # 2-core machine, so the large run keeps the last four weeks of marks.
    "large": ["--academies", "60", "--pupils-per-academy", "834", "--attendance-weeks", "4"],
}
PASSWORD = "trust-demo"


def peak_child_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def peak_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    subprocess.run(
        [*command, "--today", BENCH_TODAY.isoformat()],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return {"seconds": round(time.perf_counter() - started, 1), "peak_mb": round(peak_child_mb())}


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
    ) -> None:
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
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        self.rows.append(
            {
                "name": name,
                "status": status,
                "repeat": repeat,
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(p95, 1),
                "queries_min": min(queries),
                "queries_max": max(queries),
                "budget_ms": budget_ms,
                "within_budget": None if budget_ms is None else p95 <= budget_ms,
            }
        )


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


def measure_pages(timer: Timer) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.test import Client

    from academies.models import Academy, TutorGroup
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
    pupils = list(
        Enrolment.objects.filter(active_on(BENCH_TODAY), academy__staff__user__username="head")
        .values_list("pupil_id", flat=True)
        .distinct()[:30]
    )

    timer.measure("trust dashboard", lambda i: leader.get("/trust/"), repeat=20, budget_ms=300)
    timer.measure("academy dashboard", lambda i: head.get("/academy/"), repeat=20, budget_ms=300)
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

    academy = Academy.objects.filter(staff__user__username="head").first()
    if academy is not None:
        for label, client, path in [
            ("behaviour analysis (academy)", head, f"/behaviour/academies/{academy.pk}/analysis/"),
            ("behaviour analysis (trust)", leader, "/behaviour/analysis/"),
            ("progress summary (academy)", head, f"/progress/academies/{academy.pk}/summary/"),
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
            academy=academy,
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
        timer.measure(
            f"register save ({statistics.median(len(r) for r in rosters.values()):.0f} pupils)",
            save_register,
            repeat=min(20, len(groups)),
            budget_ms=150,
        )

    return {"pupils_sampled": len(pupils), "registers_saved": min(20, len(groups))}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the seeded database")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "trust.settings"}
    env.pop("REDIS_URL", None)
    results: dict[str, Any] = {"scale": args.scale, "today": BENCH_TODAY.isoformat()}
    if not args.skip_seed:
        recreate_database(url)
        results["seed"] = run_seed(env, args.scale)
        print(f"seed: {results['seed']['seconds']} s, peak {results['seed']['peak_mb']} MB")

    os.environ.update({k: v for k, v in env.items() if k in {"DATABASE_URL"}})
    os.environ["DJANGO_SETTINGS_MODULE"] = "trust.settings"
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django
    import time_machine
    from django.conf import settings

    django.setup()
    settings.DEBUG = True  # connection.queries only fills in debug mode.
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]

    timer = Timer()
    with time_machine.travel(datetime.datetime(2026, 12, 4, 10, 0), tick=True):
        results["pages"] = measure_pages(timer)
        results["import"] = measure_import(10_000)
    results["timings"] = timer.rows
    results["peak_mb_benchmark_process"] = round(peak_self_mb())

    print(f"\n{'measure':<34} {'p50 ms':>8} {'p95 ms':>8} {'queries':>9} {'budget':>8}  ok")
    for row in timer.rows:
        queries = f"{row['queries_min']}-{row['queries_max']}"
        budget = "" if row["budget_ms"] is None else f"{row['budget_ms']:.0f}"
        ok = {None: "", True: "yes", False: "NO"}[row["within_budget"]]
        times = f"{row['p50_ms']:>8} {row['p95_ms']:>8}"
        print(f"{row['name']:<34} {times} {queries:>9} {budget:>8}  {ok}")
    imported = results["import"]
    print(
        f"import of {imported['pupils']:,} pupils: {imported['first_import_s']} s "
        f"(unchanged again: {imported['unchanged_reimport_s']} s, budget 30 s)"
    )
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"written to {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
