"""The year group heatmap with its pupil lists, and the academy and trust summaries."""

import csv
import datetime
import io
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from progress.grades import default_subjects_ensure
from progress.models import GradeEntry, TargetGrade
from pupils.models import Enrolment, Pupil, SenStatus
from staff.models import Role

from .factories import AcademicYearFactory, PupilFactory, grant
from .factories_progress import (
    AssessmentPointFactory,
    ClassMembershipFactory,
    GradeEntryFactory,
    TargetGradeFactory,
    TeachingGroupFactory,
    default_scale,
    grade_of,
)
from .personas import TODAY, build_personas

pytestmark = pytest.mark.django_db

# Oak Year 9 pupils of the maths class -> (grade at the November point or
# None for no entry, TMG for 2026/27 or None, sex). "last_year_tmg" has a
# TMG of 2025/26 only, which must not be used.
OAK9_MATHS = {
    "above": ("7", "6", "F"),
    "on": ("6", "6", "F"),
    "below": ("6-", "6", "M"),
    "well_below": ("5", "6", "M"),
    "absent": ("Absent", "6", "F"),
    "no_entry": (None, "6", "M"),
    "no_tmg": ("6", None, "F"),
    "last_year_tmg": ("8", None, "M"),
}
EXPECTED_MATHS = {
    "above": ["above"],
    "on": ["on"],
    "below": ["below"],
    "well_below": ["well_below"],
    "no_grade": ["absent", "no_entry"],
    "no_tmg": ["no_tmg", "last_year_tmg"],
}


def fresh(user):
    """Return the user without the scope cached on the object."""
    return type(user).objects.get(pk=user.pk)


def enrol(world, pupil, key):
    tutor_group = world.tutor_groups[key]
    Enrolment.objects.create(
        pupil=pupil,
        academy=tutor_group.academy,
        academic_year=world.academic_year,
        year_group=tutor_group.year_group,
        tutor_group=tutor_group,
        start_date=world.academic_year.start_date,
    )


def tmg(world, pupil, qualification, label, year=None):
    return TargetGradeFactory(
        pupil=pupil,
        qualification=qualification,
        academic_year=year or world.academic_year,
        grade=grade_of(qualification.scale, label),
    )


def grade(point, pupil, qualification, label):
    return GradeEntryFactory(
        assessment_point=point,
        pupil=pupil,
        qualification=qualification,
        grade=grade_of(qualification.scale, label),
    )


def add_graded_pupils(world, count, *, label="5"):
    """Add `count` more Oak Year 9 pupils to the maths class, each graded below a TMG of 6."""
    maths = world.qualifications["maths"]
    for _ in range(count):
        pupil = PupilFactory()
        enrol(world, pupil, "9B")
        ClassMembershipFactory(group=world.maths_class, pupil=pupil)
        tmg(world, pupil, maths, "6")
        grade(world.points["november"], pupil, maths, label)


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        world = build_personas()
        trust = world.academies["oak"].trust
        default_scale(trust)
        qualifications = default_subjects_ensure(trust)
        maths = qualifications["gcse_maths"]
        english = qualifications["gcse_english_language"]
        world.qualifications = {"maths": maths, "english": english}
        last_year = AcademicYearFactory(trust=trust, start_year=2025)
        oak9 = world.year_groups["oak9"]
        world.maths_class = TeachingGroupFactory(
            academy=world.academies["oak"],
            academic_year=world.academic_year,
            year_group=oak9,
            qualification=maths,
            name="9Ma1",
            teachers=[world.staff["teacher"]],
        )
        world.points = {
            "october": AssessmentPointFactory(
                group=world.maths_class, name="October", date=datetime.date(2026, 10, 9)
            ),
            "november": AssessmentPointFactory(
                group=world.maths_class, name="November", date=datetime.date(2026, 11, 20)
            ),
            "march": AssessmentPointFactory(
                group=world.maths_class, name="March", date=datetime.date(2027, 3, 12)
            ),
        }
        november = world.points["november"]
        world.named = {}
        for key, (label, target, sex) in OAK9_MATHS.items():
            pupil = PupilFactory(
                legal_forename=key.replace("_", "").capitalize(), legal_surname="Heatmap", sex=sex
            )
            enrol(world, pupil, "9A")
            ClassMembershipFactory(group=world.maths_class, pupil=pupil)
            if target:
                tmg(world, pupil, maths, target)
            if label:
                grade(november, pupil, maths, label)
            world.named[key] = pupil
        # A TMG of the previous academic year is never used for this year's grades.
        tmg(world, world.named["last_year_tmg"], maths, "9", year=last_year)
        # An older grade at the October point must not leak into November.
        grade(world.points["october"], world.named["no_entry"], maths, "9")

        above = world.named["above"]
        above.sen_status = SenStatus.SEN_SUPPORT
        above.eal = True
        above.looked_after = True
        above.save()
        # "on" is on TMG in maths but well below in English, so not on target in all subjects.
        tmg(world, world.named["on"], english, "6")
        grade(november, world.named["on"], english, "4")

        # Elm Year 9: one pupil on TMG, so the trust figure differs from an
        # average of the academies' percentages.
        elm_class = TeachingGroupFactory(
            academy=world.academies["elm"],
            academic_year=world.academic_year,
            year_group=world.year_groups["elm9"],
            qualification=maths,
            name="9EMa",
        )
        elm_point = AssessmentPointFactory(
            group=elm_class, name="Elm November", date=datetime.date(2026, 11, 27)
        )
        ashdown = world.pupils["elm9e_ashdown"]
        ClassMembershipFactory(group=elm_class, pupil=ashdown)
        tmg(world, ashdown, maths, "6")
        grade(elm_point, ashdown, maths, "6+")
        yield world


def get(client, user, url, **params):
    client.force_login(user)
    with time_machine.travel(TODAY, tick=False):
        return client.get(url, params)


def heatmap_url(world, key="oak9"):
    return f"/progress/year-groups/{world.year_groups[key].pk}/heatmap/"


def pupils_url(world, key="oak9"):
    return f"/progress/year-groups/{world.year_groups[key].pk}/heatmap/pupils/"


def cell_counts(content: str, qualification_id: int) -> dict[str, int]:
    """Read the linked counts of one heatmap row from the page."""
    found = re.findall(rf'qualification={qualification_id}&amp;status=([a-z_]+)">(\d+)<', content)
    return {status: int(count) for status, count in found}


# The heatmap -------------------------------------------------------------------------


def test_heatmap_counts_by_status(world, client):
    response = get(client, world.users["headteacher"], heatmap_url(world))
    content = response.content.decode()

    assert response.status_code == 200
    assert "November" in content
    counts = cell_counts(content, world.qualifications["maths"].pk)
    assert counts == {status: len(keys) for status, keys in EXPECTED_MATHS.items()}


def test_heatmap_english_row_from_entries(world, client):
    response = get(client, world.users["headteacher"], heatmap_url(world))
    counts = cell_counts(response.content.decode(), world.qualifications["english"].pk)

    assert counts == {"well_below": 1}


def test_heatmap_chosen_point(world, client):
    october = world.points["october"]
    response = get(client, world.users["headteacher"], heatmap_url(world), point=october.pk)
    counts = cell_counts(response.content.decode(), world.qualifications["maths"].pk)

    # At October only "no_entry" has a grade (9 against a TMG of 6).
    assert counts == {"above": 1, "no_grade": 7}


def test_heatmap_drill_down_matches_cells(world, client):
    maths = world.qualifications["maths"]
    for status, keys in EXPECTED_MATHS.items():
        response = get(
            client,
            world.users["headteacher"],
            pupils_url(world),
            qualification=maths.pk,
            status=status,
        )
        content = response.content.decode()
        listed = set(re.findall(r'href="/progress/pupils/(\d+)/"', content))

        assert response.status_code == 200, status
        assert listed == {str(world.named[k].pk) for k in keys}, status


def test_drill_down_shows_grade_tmg_and_chips(world, client):
    maths = world.qualifications["maths"]
    response = get(
        client,
        world.users["headteacher"],
        pupils_url(world),
        qualification=maths.pk,
        status="above",
    )
    content = response.content.decode()
    row = content.split('href="/progress/pupils/')[1].split("</tr>")[0]

    assert "Heatmap, Above" in row
    assert "<td>7</td>" in row
    assert "<td>6</td>" in row
    assert "SEN support" in row
    assert "Pupil premium" in row


def test_drill_down_absence_is_no_grade(world, client):
    maths = world.qualifications["maths"]
    response = get(
        client,
        world.users["headteacher"],
        pupils_url(world),
        qualification=maths.pk,
        status="no_grade",
    )
    content = response.content.decode()

    assert "Absent" in content
    assert "No grade" in content


def test_no_tmg_pupils_show_no_tmg(world, client):
    maths = world.qualifications["maths"]
    response = get(
        client,
        world.users["headteacher"],
        pupils_url(world),
        qualification=maths.pk,
        status="no_tmg",
    )
    content = response.content.decode()

    assert content.count("No TMG</span></td>") == 2
    assert "Lastyeartmg" in content


# Bad parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("heatmap", {"point": "abc"}),
        ("heatmap", {"point": "0"}),
        ("pupils", {"status": "below"}),
        ("pupils", {"qualification": "QUAL", "status": "below"}),
        ("pupils", {"qualification": "MATHS", "status": "sideways"}),
        ("pupils", {"qualification": "MATHS"}),
        ("pupils", {"qualification": "999999", "status": "below"}),
    ],
)
def test_heatmap_bad_parameters_400(world, client, path, params):
    params = {
        k: str(world.qualifications["maths"].pk) if v == "MATHS" else v for k, v in params.items()
    }
    url = heatmap_url(world) if path == "heatmap" else pupils_url(world)
    response = get(client, world.users["headteacher"], url, **params)

    assert response.status_code == 400
    assert "filter" in response.content.decode()


def test_heatmap_point_of_other_year_group_400(world, client):
    oak10_point = AssessmentPointFactory(
        academy=world.academies["oak"],
        academic_year=world.academic_year,
        year_group=world.year_groups["oak10"],
        name="Year 10 November",
    )
    response = get(client, world.users["headteacher"], heatmap_url(world), point=oak10_point.pk)

    assert response.status_code == 400
    assert str(oak10_point.pk) in response.content.decode()


def test_summary_bad_format_400(world, client):
    url = f"/progress/academies/{world.academies['oak'].pk}/summary/"
    response = get(client, world.users["headteacher"], url, format="pdf")

    assert response.status_code == 400


# Access ------------------------------------------------------------------------------


def test_head_of_year_sees_own_year_only(world, client):
    user = world.users["head_of_year"]

    assert get(client, user, heatmap_url(world)).status_code == 200
    assert get(client, fresh(user), heatmap_url(world, "oak10")).status_code == 404


def test_elm_staff_404_on_oak(world, client):
    user = world.users["elm_teacher"]
    oak = world.academies["oak"]

    assert get(client, user, heatmap_url(world)).status_code == 404
    assert get(client, fresh(user), f"/progress/academies/{oak.pk}/summary/").status_code == 404
    assert get(client, fresh(user), "/progress/summary/").status_code == 404


def test_teacher_sees_heatmap_only_in_scope(world, client):
    user = world.users["teacher"]
    maths = world.qualifications["maths"]

    assert get(client, user, heatmap_url(world)).status_code == 404
    response = get(client, fresh(user), pupils_url(world), qualification=maths.pk, status="on")
    assert response.status_code == 404

    grant(world.staff["teacher"], Role.HEAD_OF_YEAR, world.year_groups["oak9"])
    assert get(client, fresh(user), heatmap_url(world)).status_code == 200


def test_trustee_gets_no_pupil_lists(world, client):
    user = world.users["trustee"]
    maths = world.qualifications["maths"]

    assert get(client, user, heatmap_url(world)).status_code == 404
    response = get(client, fresh(user), pupils_url(world), qualification=maths.pk, status="on")
    assert response.status_code == 404


# Summaries ---------------------------------------------------------------------------


def export_rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def find(rows, table, label, area):
    return next(r for r in rows if r["Table"] == table and r["Row"] == label and r["Area"] == area)


def test_academy_summary_by_area(world, client):
    url = f"/progress/academies/{world.academies['oak'].pk}/summary/"
    rows = export_rows(get(client, world.users["headteacher"], url, format="csv"))

    maths = find(rows, "Year group", "Year 9", "Mathematics")
    assert maths["Assessment point"] == "November (20/11/2026)"
    assert maths["Pupils with a grade"] == "6"
    assert maths["On or above TMG"] == "2"
    assert maths["Percentage on or above TMG"] == "33.3"
    assert maths["Graded without a TMG"] == "2"
    english = find(rows, "Year group", "Year 9", "English")
    assert english["Pupils with a grade"] == "1"
    assert english["On or above TMG"] == "0"
    every = find(rows, "Year group", "Year 9", "All subjects")
    assert every["Pupils with a grade"] == "6"
    assert every["On or above TMG"] == "1"


def test_academy_summary_group_breakdown(world, client):
    url = f"/progress/academies/{world.academies['oak'].pk}/summary/"
    rows = export_rows(get(client, world.users["headteacher"], url, format="csv"))

    expected = {
        "Disadvantaged": ("1", "1", "100.0"),
        "Not disadvantaged": ("5", "1", "20.0"),
        "SEN support": ("1", "1", "100.0"),
        "EHC plan": ("0", "0", ""),
        "EAL": ("1", "1", "100.0"),
        "Female": ("3", "2", "66.7"),
        "Male": ("3", "0", "0.0"),
    }
    for label, (graded, on, percent) in expected.items():
        row = find(rows, "Pupil group", label, "Mathematics")
        assert row["Pupils with a grade"] == graded, label
        assert row["On or above TMG"] == on, label
        assert row["Percentage on or above TMG"] == percent, label


def test_academy_summary_page_has_charts(world, client):
    url = f"/progress/academies/{world.academies['oak'].pk}/summary/"
    response = get(client, world.users["headteacher"], url)
    content = response.content.decode()

    assert response.status_code == 200
    assert content.count('<figure class="chart">') == 2
    assert "Data behind the chart" in content
    assert "33.3%" in content
    assert f"/progress/year-groups/{world.year_groups['oak9'].pk}/heatmap/" in content


def test_trust_summary_sums_counts(world, client):
    rows = export_rows(get(client, world.users["trust_leader"], "/progress/summary/", format="csv"))

    total = find(rows, "Academy", "All academies", "Mathematics")
    # 3 of 7 pupils (Oak 2 of 6, Elm 1 of 1), not the mean of 33.3 and 100.
    assert total["Pupils with a grade"] == "7"
    assert total["On or above TMG"] == "3"
    assert total["Percentage on or above TMG"] == "42.9"
    year9 = find(rows, "Year group", "Year 9", "Mathematics")
    assert year9["Percentage on or above TMG"] == "42.9"


def test_trustee_summary_suppresses_small_groups(world, client):
    response = get(client, world.users["trustee"], "/progress/summary/")
    content = response.content.decode()

    assert response.status_code == 200
    assert "fewer than 5" in content
    for pupil in Pupil.objects.all():
        assert pupil.legal_surname not in content
    assert "/heatmap/" not in content


def test_trustee_export_hides_small_and_complement(world, client):
    add_graded_pupils(world, 3)
    rows = export_rows(get(client, world.users["trustee"], "/progress/summary/", format="csv"))

    # Elm (1 pupil) is small, so Oak (9 pupils) is hidden too: the total would give it away.
    assert find(rows, "Academy", "Elm Academy", "Mathematics")["Pupils with a grade"] == (
        "fewer than 5"
    )
    assert find(rows, "Academy", "Oak Academy", "Mathematics")["Pupils with a grade"] == (
        "not shown"
    )
    total = find(rows, "Academy", "All academies", "Mathematics")
    assert total["Pupils with a grade"] == "10"
    disadvantaged = find(rows, "Pupil group", "Disadvantaged", "Mathematics")
    assert disadvantaged["Pupils with a grade"] == "fewer than 5"
    others = find(rows, "Pupil group", "Not disadvantaged", "Mathematics")
    assert others["Pupils with a grade"] == "not shown"
    # Three boys are hidden, so the seven girls are hidden as well.
    male = find(rows, "Pupil group", "Male", "Mathematics")
    assert male["Pupils with a grade"] == "fewer than 5"
    female = find(rows, "Pupil group", "Female", "Mathematics")
    assert female["Pupils with a grade"] == "not shown"


def test_trust_summary_404_for_academy_staff(world, client):
    response = get(client, world.users["headteacher"], "/progress/summary/")

    assert response.status_code == 404


def test_teacher_academy_summary_suppressed(world, client):
    url = f"/progress/academies/{world.academies['oak'].pk}/summary/"
    response = get(client, world.users["teacher"], url)
    content = response.content.decode()

    assert response.status_code == 200
    assert "fewer than 5" in content
    assert "/heatmap/" not in content


# Query counts ------------------------------------------------------------------------


def count_queries(client, user, url, **params) -> int:
    client.force_login(user)
    with time_machine.travel(TODAY, tick=False), CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def test_query_counts_do_not_grow_with_pupils(world, client):
    maths = world.qualifications["maths"]
    oak = world.academies["oak"]
    pages = [
        (heatmap_url(world), {}),
        (pupils_url(world), {"qualification": maths.pk, "status": "well_below"}),
        (f"/progress/academies/{oak.pk}/summary/", {}),
        ("/progress/summary/", {}),
    ]
    user = world.users["trust_leader"]
    before = [count_queries(client, fresh(user), url, **params) for url, params in pages]
    add_graded_pupils(world, 12)
    after = [count_queries(client, fresh(user), url, **params) for url, params in pages]

    assert GradeEntry.objects.filter(assessment_point=world.points["november"]).count() == 20
    assert TargetGrade.objects.count() > 12
    assert after == before


# Links -------------------------------------------------------------------------------


def test_pages_link_to_heatmap_and_summaries(world, client):
    oak = world.academies["oak"]
    oak9 = world.year_groups["oak9"]
    year_page = get(client, world.users["head_of_year"], f"/academies/year-groups/{oak9.pk}/")
    academy_page = get(client, world.users["trustee"], f"/academies/{oak.pk}/")
    summary_page = get(
        client, fresh(world.users["trustee"]), f"/progress/academies/{oak.pk}/summary/"
    )

    assert year_page.status_code == 200
    assert f"/progress/year-groups/{oak9.pk}/heatmap/" in year_page.content.decode()
    assert academy_page.status_code == 200
    assert f"/progress/academies/{oak.pk}/summary/" in academy_page.content.decode()
    assert summary_page.status_code == 200
    assert "/progress/summary/" in summary_page.content.decode()


def test_heatmap_without_points(world, client):
    response = get(client, world.users["headteacher"], heatmap_url(world, "oak10"))

    assert response.status_code == 200
    assert "Year 10 has no assessment points yet" in response.content.decode()


def test_summary_xlsx_export(world, client):
    url = f"/progress/academies/{world.academies['oak'].pk}/summary/"
    response = get(client, world.users["headteacher"], url, format="xlsx")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "progress-summary-academy" in response["Content-Disposition"]
