"""Wording for the demo appraisals and portfolios: objectives, reviews,
development needs, the trust's CPD offer and portfolio entries.

Standard codes refer to the Teachers' Standards (appraisal.standards) or
to the demo's support staff set below.
"""

from dataclasses import dataclass

from appraisal.models import CpdKind

SUPPORT_STANDARDS = "Support staff standards (trust)"
SUPPORT_STANDARDS_DESCRIPTION = (
    "The trust's own standards for teaching assistants, pastoral and support staff."
)
SUPPORT_POST_TYPES = ["support", "teaching_assistant", "pastoral"]
SUPPORT_STANDARDS_ROWS: list[tuple[str, str]] = [
    ("SS1", "Support pupils' learning, wellbeing and independence"),
    ("SS2", "Work effectively with colleagues, families and visitors"),
    ("SS3", "Keep pupils safe and follow the academy's safeguarding procedures"),
    ("SS4", "Deliver an efficient, accurate and courteous service"),
    ("SS5", "Develop own knowledge and skills for the role"),
]


@dataclass(frozen=True)
class ObjectiveText:
    title: str
    success_criteria: str
    support: str
    standards: tuple[str, ...]


TEACHING = (
    ObjectiveText(
        "Adapt lessons for pupils with SEND in my classes",
        "Lesson plans show adaptations for each class's pupils with SEND, seen in two "
        "learning walks.",
        "Two planning sessions with the SENCo.",
        ("TS5",),
    ),
    ObjectiveText(
        "Use retrieval practice at the start of lessons",
        "Short retrieval quizzes in at least three lessons a week; pupil voice shows pupils "
        "use them to revise.",
        "Department INSET on retrieval practice and one peer observation.",
        ("TS2", "TS4"),
    ),
    ObjectiveText(
        "Make written feedback something pupils act on",
        "Pupils respond to feedback within a week in four of five book samples.",
        "A term of coaching from the assessment lead.",
        ("TS6",),
    ),
    ObjectiveText(
        "Build consistent behaviour routines with Key Stage 3 classes",
        "Fewer behaviour points logged in my lessons than last year; routines seen in two "
        "drop-ins.",
        "Support from the pastoral team and a visit to a colleague's lessons.",
        ("TS7", "TS1"),
    ),
    ObjectiveText(
        "Deepen subject knowledge for the revised units",
        "Two units of the scheme of work rewritten and shared with the department.",
        "An exam board training day and the trust subject network.",
        ("TS3",),
    ),
    ObjectiveText(
        "Lead disciplinary reading in the subject",
        "Every Key Stage 3 unit includes a subject text read in class; a short report to the "
        "department in the summer term.",
        "Time at two department meetings and the trust reading network.",
        ("TS3", "TS8"),
    ),
    ObjectiveText(
        "Stretch the most able pupils",
        "Each unit has planned challenge tasks; the most able meet or beat their TMG at the "
        "summer point.",
        "Observations of colleagues and reading on challenge.",
        ("TS1", "TS5"),
    ),
    ObjectiveText(
        "Use assessment results to plan interventions",
        "After each assessment point, pupils below TMG have an intervention planned and reviewed.",
        "Training on the progress pages.",
        ("TS6", "TS2"),
    ),
    ObjectiveText(
        "Contribute to the wider life of the academy",
        "Run a club or trip and support one extra parents' evening.",
        "Time in the enrichment timetable.",
        ("TS8",),
    ),
)

LEADERSHIP = (
    ObjectiveText(
        "Improve the quality of curriculum planning across departments",
        "Every department's Key Stage 3 plan reviewed with its head of department by the "
        "spring half term.",
        "Release time on Wednesday afternoons.",
        ("TS3", "TS8"),
    ),
    ObjectiveText(
        "Develop middle leaders through coaching",
        "Each line-managed middle leader completes a coaching cycle with agreed actions.",
        "The trust coaching programme.",
        ("TS8",),
    ),
    ObjectiveText(
        "Strengthen the safeguarding culture",
        "All staff complete the annual update; the audit shows no actions outstanding.",
        "Support from the trust safeguarding lead.",
        ("Part Two", "TS8"),
    ),
    ObjectiveText(
        "Keep spending in the area of responsibility within budget",
        "Spending within 2% of the budget at the end of the financial year.",
        "Monthly meetings with the business manager.",
        ("TS8",),
    ),
    ObjectiveText(
        "Reduce workload from marking and data entry",
        "Staff survey shows fewer hours on marking and data entry than last year.",
        "Time with the trust data team.",
        ("TS8",),
    ),
    ObjectiveText(
        "Lead collaboration with another academy in the trust",
        "Two joint projects with a partner academy, with results shared at a trust meeting.",
        "Travel time and cover for visits.",
        ("TS8", "TS1"),
    ),
)

PASTORAL = (
    ObjectiveText(
        "Improve contact with families of pupils whose attendance is falling",
        "Every pupil below 90% attendance has a family contact logged within a week.",
        "Weekly meetings with the attendance officer.",
        ("SS2", "SS1"),
    ),
    ObjectiveText(
        "Reduce repeat behaviour incidents in the year group",
        "Fewer pupils with five or more incidents in a term than last year.",
        "Restorative practice training.",
        ("SS1", "SS3"),
    ),
    ObjectiveText(
        "Lead the year group's transition programme",
        "Transition events run to plan; pupil survey shows most pupils feel settled.",
        "Budget for transition events.",
        ("SS1", "SS2"),
    ),
)

SUPPORT = (
    ObjectiveText(
        "Complete the first aid at work refresher",
        "Certificate renewed before the current one expires.",
        "Course fees and cover for two days.",
        ("SS3", "SS5"),
    ),
    ObjectiveText(
        "Support pupils' reading in small groups",
        "Pupils in the reading groups improve their reading age by at least six months.",
        "Training from the English lead.",
        ("SS1",),
    ),
    ObjectiveText(
        "Improve response times for routine requests",
        "Routine requests answered within two working days in nine cases out of ten.",
        "A shared log set up with the office manager.",
        ("SS4",),
    ),
    ObjectiveText(
        "Learn the reporting tools in the management information system",
        "Produce the termly reports without help by the spring term.",
        "Two online training sessions.",
        ("SS5", "SS4"),
    ),
    ObjectiveText(
        "Keep site and safety checks up to date",
        "Every statutory check recorded on time in the compliance log.",
        "Time with the trust estates team.",
        ("SS3", "SS4"),
    ),
    ObjectiveText(
        "Improve the welcome for visitors and families",
        "Visitor feedback positive in the annual survey; sign-in checks done for every visitor.",
        "Customer service training.",
        ("SS2", "SS3"),
    ),
)

EVIDENCE = (
    "Lesson plans and a learning walk note.",
    "Book samples from two classes.",
    "Pupil voice survey results.",
    "Minutes of the department meeting.",
    "Notes from two drop-ins.",
    "The log kept over the term.",
)
SELF_REVIEWS = (
    "Good progress so far; the routines are in place in most lessons.",
    "Started well but the spring term was disrupted by staff absence.",
    "I have done what was planned and can see the difference in pupils' work.",
    "Partly there: I need more time with the newer classes.",
)
APPRAISER_COMMENTS = (
    "Agreed. Clear evidence of impact.",
    "On track; keep the focus on the lower sets.",
    "Some progress; we agreed extra support for the summer term.",
    "Well evidenced and shared with colleagues.",
)
MID_YEAR_COMMENTS = (
    "On track for most objectives.",
    "Good progress; one objective needs more support next term.",
    "Objectives still right for the year; no changes agreed.",
)

# (summary, pay recommendation) by how the year went.
SUMMARIES = {
    "strong": (
        "A strong year: every counted objective met, with clear evidence of impact.",
        "Progression to the next point on the pay range recommended.",
    ),
    "mixed": (
        "A good year overall, with some objectives only partly met.",
        "Progression to the next point on the pay range recommended, with the support "
        "agreed for the partly met objectives.",
    ),
    "weak": (
        "Some objectives were not met; a support plan was agreed for the new cycle.",
        "Pay progression not recommended this year.",
    ),
}
DISAGREEMENT = (
    "I disagree with the outcome of my first objective: my classes changed teacher twice "
    "in the spring term, which the review does not take into account."
)

# (description, suggested portfolio entry kind)
DEVELOPMENT_NEEDS = (
    ("Questioning to check understanding", CpdKind.OBSERVATION),
    ("Adaptive teaching for pupils with SEND", CpdKind.COURSE),
    ("Subject knowledge for the revised specification", CpdKind.COURSE),
    ("Managing low-level disruption", CpdKind.COACHING),
    ("Leading a team through change", CpdKind.QUALIFICATION),
    ("Using research to improve practice", CpdKind.READING),
    ("Seeing practice in another academy", CpdKind.PEER_VISIT),
    ("Evaluating an intervention", CpdKind.RESEARCH),
)


@dataclass(frozen=True)
class EventText:
    title: str
    kind: str
    # Subject code (progress.grades.DEFAULT_QUALIFICATIONS), or "" for none.
    subject: str
    # Audience: a department name, a post type, or "safeguarding" or "middle_leader".
    audience: str
    hours: str
    cost: str
    places: int
    # (academic year, month, day), where academic year 0 is the current one and -1 last year.
    when: tuple[int, int, int]
    days: int = 1


CPD_PROVIDER = "Severn Valley Learning Trust"
CPD_EVENTS = (
    EventText(
        "English network: teaching unseen poetry",
        CpdKind.COURSE,
        "english",
        "English",
        "2.5",
        "0",
        30,
        (-1, 11, 12),
    ),
    EventText(
        "Mathematics network: mastery in Key Stage 3",
        CpdKind.COURSE,
        "maths",
        "Mathematics",
        "2.5",
        "0",
        30,
        (-1, 2, 4),
    ),
    EventText(
        "Science network: required practicals",
        CpdKind.COURSE,
        "science",
        "Science",
        "3",
        "0",
        30,
        (0, 10, 8),
    ),
    EventText(
        "History network: disciplinary knowledge",
        CpdKind.COURSE,
        "history",
        "History",
        "2.5",
        "0",
        20,
        (0, 11, 19),
    ),
    EventText(
        "Languages network: phonics in French and Spanish",
        CpdKind.COURSE,
        "french",
        "Modern Foreign Languages",
        "2.5",
        "0",
        20,
        (0, 1, 21),
    ),
    EventText(
        "NPQ for Leading Teaching (trust cohort)",
        CpdKind.QUALIFICATION,
        "",
        "teacher",
        "40",
        "0",
        16,
        (-1, 10, 1),
        days=240,
    ),
    EventText(
        "NPQ for Senior Leadership (trust cohort)",
        CpdKind.QUALIFICATION,
        "",
        "leadership",
        "60",
        "0",
        12,
        (0, 11, 5),
        days=360,
    ),
    EventText(
        "Trust conference: adaptive teaching",
        CpdKind.INSET,
        "",
        "teacher",
        "6",
        "0",
        60,
        (-1, 1, 5),
    ),
    EventText(
        "Teaching assistant network: small-group reading",
        CpdKind.COURSE,
        "",
        "teaching_assistant",
        "2",
        "0",
        30,
        (0, 10, 15),
    ),
    EventText(
        "Safeguarding update for designated leads",
        CpdKind.COURSE,
        "",
        "safeguarding",
        "3",
        "45",
        20,
        (0, 9, 17),
    ),
    EventText(
        "Coaching skills for middle leaders",
        CpdKind.COACHING,
        "",
        "middle_leader",
        "6",
        "120",
        16,
        (0, 2, 25),
        days=28,
    ),
    EventText(
        "Peer review visits between academies",
        CpdKind.PEER_VISIT,
        "",
        "leadership",
        "5",
        "0",
        12,
        (-1, 5, 13),
    ),
)


@dataclass(frozen=True)
class EntryText:
    kind: str
    title: str
    provider: str
    hours: tuple[int, int]
    costs: tuple[int, ...]
    reflection: str
    days: int = 0


TEACHER_ENTRIES = (
    EntryText(
        CpdKind.COURSE,
        "Exam board training on the revised specification",
        "Exam board",
        (5, 7),
        (0, 150, 220),
        "Clarified the mark scheme; I changed how I teach the extended answer.",
    ),
    EntryText(
        CpdKind.INSET,
        "INSET: adaptive teaching in mixed-attainment classes",
        "",
        (2, 4),
        (0,),
        "Useful strategies for scaffolding; tried two of them with Year 8.",
    ),
    EntryText(
        CpdKind.COACHING,
        "Instructional coaching cycle",
        "Academy coaching team",
        (4, 8),
        (0,),
        "Six short sessions on questioning; cold calling is now routine in my lessons.",
        days=42,
    ),
    EntryText(
        CpdKind.OBSERVATION,
        "Observed a colleague's lesson on modelling answers",
        "",
        (1, 1),
        (0,),
        "Saw live modelling with a visualiser and used it the next week.",
    ),
    EntryText(
        CpdKind.QUALIFICATION,
        "NPQ for Leading Behaviour and Culture",
        "NPQ provider",
        (30, 45),
        (0,),
        "Halfway through; the modules on routines fit the academy's priority.",
        days=300,
    ),
    EntryText(
        CpdKind.READING,
        "Reading: research summaries on retrieval practice",
        "Trust reading list",
        (2, 5),
        (0, 15),
        "The summaries changed how I space revision across a unit.",
    ),
    EntryText(
        CpdKind.RESEARCH,
        "Action research: weekly quizzing and recall in Year 8",
        "",
        (8, 14),
        (0,),
        "Recall improved in the quizzed class; sharing the results with the department.",
        days=90,
    ),
)
SUPPORT_ENTRIES = (
    EntryText(
        CpdKind.COURSE,
        "First aid at work refresher",
        "Training provider",
        (6, 12),
        (95, 180),
        "Renewed the certificate; practised the new guidance on defibrillators.",
        days=1,
    ),
    EntryText(
        CpdKind.INSET,
        "INSET: safeguarding update",
        "",
        (1, 2),
        (0,),
        "Refreshed the reporting steps and who the designated leads are.",
    ),
    EntryText(
        CpdKind.COACHING,
        "Coaching on managing workload",
        "Academy coaching team",
        (3, 5),
        (0,),
        "Agreed a weekly plan that keeps routine tasks to set times.",
        days=30,
    ),
    EntryText(
        CpdKind.OBSERVATION,
        "Shadowed a colleague in another team",
        "",
        (2, 3),
        (0,),
        "Learned how the office handles admissions queries.",
    ),
    EntryText(
        CpdKind.QUALIFICATION,
        "Level 3 certificate for the role",
        "Local college",
        (40, 60),
        (300, 450),
        "Completed the first units; the assessor's feedback was positive.",
        days=200,
    ),
    EntryText(
        CpdKind.READING,
        "Reading: the academy's updated policies",
        "",
        (1, 2),
        (0,),
        "Noted the changes to the behaviour and attendance policies.",
    ),
)
PEER_VISIT_REFLECTION = "Saw how they run their routines; brought back two ideas to try."
NEED_REFLECTION = "Chosen to meet the development need from last year's review."
BOOKING_REFLECTION = "Met colleagues from other academies; shared resources afterwards."
