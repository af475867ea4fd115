"""Names for the demo trust, typical of pupils and staff in English schools.

The lists are grouped by family background so a pupil's forename, surname
and parents' names go together, and so English as an additional language
(EAL) can be more likely where the family's first language is often not
English. Weights are rough shares of an urban Midlands trust, not census
figures.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class NameGroup:
    key: str
    weight: int
    eal_share: float
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]


# fmt: off
NAME_GROUPS: tuple[NameGroup, ...] = (
    NameGroup(
        key="english",
        weight=52,
        eal_share=0.01,
        female=(
            "Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie",
            "Sophia", "Grace", "Freya", "Florence", "Poppy", "Evie", "Ella", "Charlotte",
            "Millie", "Emily", "Ruby", "Zoë", "Chloë", "Phoebe", "Harriet", "Matilda",
            "Elsie", "Daisy", "Jessica", "Hannah", "Lucy", "Eleanor", "Imogen", "Holly",
            "Niamh", "Aoife", "Siân", "Ffion", "Megan", "Caitlin", "Erin",
        ),
        male=(
            "Oliver", "George", "Noah", "Arthur", "Leo", "Harry", "Oscar", "Archie", "Henry",
            "Theodore", "Freddie", "Jack", "Charlie", "Thomas", "Alfie", "Jacob", "William",
            "Joshua", "James", "Alexander", "Samuel", "Edward", "Reuben", "Toby", "Max",
            "Finley", "Ethan", "Lewis", "Callum", "Dylan", "Rhys", "Dafydd", "Seán", "Ciarán",
            "Connor", "Kieran", "Owen", "Jamie", "Benjamin", "Daniel",
        ),
        surnames=(
            "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson",
            "Thomas", "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker",
            "White", "Edwards", "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke",
            "Patterson", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward",
            "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen",
            "O'Connor", "O'Brien", "McAllister", "MacDonald", "Ní Bhriain", "Ó Súilleabháin",
            "Fitzgerald", "Smith-Jones", "Harper-Lee", "Bailey-Ward", "Lloyd-Williams",
            "Ashworth", "Pemberton", "Whitehouse", "Fairclough",
        ),
    ),
    NameGroup(
        key="south_asian",
        weight=16,
        eal_share=0.55,
        female=(
            "Aisha", "Fatima", "Zainab", "Maryam", "Amira", "Inaya", "Hafsa", "Anaya",
            "Priya", "Aaliyah", "Sana", "Ayesha", "Simran", "Harleen", "Jasmeet", "Noor",
            "Aleena", "Zara", "Khadija", "Riya",
        ),
        male=(
            "Muhammad", "Mohammed", "Ibrahim", "Yusuf", "Ayaan", "Zayn", "Hamza", "Ali",
            "Omar", "Arjun", "Rohan", "Aarav", "Harpreet", "Gurdeep", "Imran", "Bilal",
            "Rayyan", "Zakariya", "Vihaan", "Kabir",
        ),
        surnames=(
            "Khan", "Ahmed", "Hussain", "Begum", "Ali", "Akhtar", "Mahmood", "Iqbal",
            "Patel", "Shah", "Singh", "Kaur", "Sandhu", "Gill", "Sharma", "Chowdhury",
            "Rahman", "Islam", "Malik", "Mistry", "Bibi", "Uddin",
        ),
    ),
    NameGroup(
        key="african_caribbean",
        weight=10,
        eal_share=0.3,
        female=(
            "Amara", "Chioma", "Adaeze", "Folake", "Abena", "Ama", "Nia", "Imani", "Zuri",
            "Tiwa", "Ayodele", "Kemi", "Shanice", "Jada", "Tiana", "Hodan", "Ifrah",
        ),
        male=(
            "Chidi", "Emeka", "Oluwaseun", "Tobi", "Kwame", "Kofi", "Femi", "Tunde", "Jayden",
            "Malachi", "Tyrone", "Andre", "Abdirahman", "Mohamed", "Jamal", "Elijah",
        ),
        surnames=(
            "Okafor", "Adeyemi", "Okonkwo", "Mensah", "Boateng", "Asante", "Adebayo",
            "Oyelaran", "Nwosu", "Campbell", "Francis", "Richards", "Grant", "Henry",
            "Warsame", "Farah", "Abdi", "Osei-Bonsu", "Williams-Gordon",
        ),
    ),
    NameGroup(
        key="eastern_european",
        weight=9,
        eal_share=0.7,
        female=(
            "Zuzanna", "Julia", "Maja", "Hanna", "Oliwia", "Wiktoria", "Natalia", "Alicja",
            "Katarzyna", "Ioana", "Andreea", "Elena", "Sofija", "Kristina", "Daria",
        ),
        male=(
            "Jakub", "Antoni", "Szymon", "Filip", "Kacper", "Mateusz", "Michał", "Andrei",
            "Stefan", "Luca", "Matas", "Lukas", "Dominik", "Tomasz", "Mihai",
        ),
        surnames=(
            "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski",
            "Zielińska", "Popescu", "Ionescu", "Kazlauskas", "Petrauskas", "Horváth",
            "Nagy", "Dvořák", "Szabó",
        ),
    ),
    NameGroup(
        key="other",
        weight=8,
        eal_share=0.6,
        female=(
            "Leila", "Yasmin", "Mei", "Ling", "Hana", "Yuki", "Sofia", "Maria", "Ana",
            "Beatriz", "Nguyen Thi Lan", "Shirin", "Dilan", "Rana",
        ),
        male=(
            "Ahmad", "Karim", "Hassan", "Wei", "Jun", "Haruto", "Mateo", "João", "Diego",
            "Minh", "Reza", "Kaveh", "Azad", "Samir",
        ),
        surnames=(
            "Chen", "Wang", "Li", "Zhang", "Nguyen", "Tran", "Tanaka", "Silva", "Santos",
            "Ferreira", "García", "Hosseini", "Karimi", "Haddad", "Mansour", "Yilmaz",
            "D'Souza", "Fernandes",
        ),
    ),
)
# fmt: on

# The first pupils of the flagship's Year 9 get these exact names (as many
# as the cohort holds), so tests of sorting, searching and PDF fonts can
# find them. Each entry is
# (legal forename, legal surname, sex, preferred forename).
FIXED_PUPILS: tuple[tuple[str, str, str, str], ...] = (
    ("Zoë", "O'Connor", "F", ""),
    ("Aoife", "Ní Bhriain", "F", ""),
    ("محمد", "علي", "M", ""),
    ("明", "李", "M", ""),
    ("Oluwaseun", "Adeyemi-Clarke", "M", "Seun"),
    ("Katarzyna", "Wiśniewska", "F", "Kasia"),
)

# Short forms pupils often go by; a few pupils get one as a preferred name.
PREFERRED_FORENAMES: dict[str, str] = {
    "Alexander": "Alex",
    "William": "Will",
    "Benjamin": "Ben",
    "Samuel": "Sam",
    "Theodore": "Teddy",
    "Jacob": "Jake",
    "Daniel": "Dan",
    "Olivia": "Liv",
    "Isabella": "Bella",
    "Eleanor": "Ellie",
    "Jessica": "Jess",
    "Charlotte": "Lottie",
    "Matilda": "Tilly",
    "Florence": "Flo",
    "Muhammad": "Mo",
    "Mohammed": "Mo",
    "Zakariya": "Zak",
    "Oluwaseun": "Seun",
    "Katarzyna": "Kasia",
    "Aleksander": "Olek",
}

STAFF_TITLES_FEMALE = ("Ms", "Mrs", "Miss", "Dr")
STAFF_TITLES_MALE = ("Mr", "Mr", "Mr", "Dr")

# fmt: off
PLACE_NAMES: tuple[str, ...] = (
    "Abbeyfield", "Ashcroft", "Bramley", "Brookside", "Castle Vale", "Cherry Orchard",
    "Clent Hills", "Coppice", "Cotswold Edge", "Droitwich Road", "Elmstead", "Fernhill",
    "Foxhollies", "Greenacres", "Hagley Park", "Hallow", "Hawthorn", "Highfield",
    "Holly Lane", "Kingfisher", "Kingsbrook", "Lickey End", "Longbridge", "Malvern View",
    "Meadowbank", "Millbrook", "Nightingale", "Northfield", "Oakwood", "Orchard Vale",
    "Parkside", "Perry Wood", "Pershore Road", "Redhill", "Ridgeway", "Riverside",
    "St Peter's", "St John's", "Severnside", "Silverdale", "Spring Meadow", "Stourport",
    "Swallowfield", "Tenbury", "The Willows", "Upton", "Warndon", "Westfield",
    "Whitecross", "Wildmoor", "Willow Bank", "Windmill Hill", "Woodgreen", "Wychbold",
    "Wyre Forest", "Yew Tree", "Alder Coppice", "Beacon Hill", "Blackberry Lane",
    "Bredon", "Cleeve Prior", "Crabtree", "Dunstall", "Evesham Road", "Fladbury",
    "Grafton", "Harvington", "Inkberrow", "Kempsey", "Lindridge",
)
# fmt: on

# Local authority codes (the first part of a DfE number) and their areas.
LOCAL_AUTHORITIES: tuple[tuple[str, str], ...] = (
    ("885", "Worcestershire"),
    ("330", "Birmingham"),
    ("333", "Sandwell"),
    ("332", "Dudley"),
    ("884", "Herefordshire"),
    ("893", "Shropshire"),
)

# fmt: off
STREETS: tuple[str, ...] = (
    "Mill Lane", "Church Street", "Station Road", "Victoria Road", "Park Avenue",
    "Orchard Close", "The Crescent", "Meadow Way", "Queen Street", "Elm Grove",
    "Severn Terrace", "Canal Side", "Larkspur Drive", "Foregate Street", "Bath Road",
)
# fmt: on
TOWNS: tuple[tuple[str, str], ...] = (
    ("Worcester", "WR"),
    ("Kidderminster", "DY"),
    ("Redditch", "B"),
    ("Bromsgrove", "B"),
    ("Malvern", "WR"),
    ("Hereford", "HR"),
)

SECONDARY_DEPARTMENTS: tuple[str, ...] = (
    "English",
    "Mathematics",
    "Science",
    "History",
    "Geography",
    "Modern Foreign Languages",
    "Computing",
    "Art and Design",
    "Music",
    "Physical Education",
    "Religious Education",
    "Design and Technology",
)
SIXTH_FORM_DEPARTMENTS: tuple[str, ...] = ("Psychology", "Economics and Business")
