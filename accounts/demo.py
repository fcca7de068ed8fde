"""Demo people: one user of each role (and a few more staff and students)."""

from accounts import services
from accounts.models import User

DEMO_PASSWORD_SUFFIX = "-Demo-2026!"

DEMO_USERS = [
    ("admin@cohortly.dev", "Ada Admin", User.Role.ADMIN),
    ("sales@cohortly.dev", "Sam Sales", User.Role.SALES),
    ("instructor@cohortly.dev", "Iris Instructor", User.Role.INSTRUCTOR),
    ("mentor@cohortly.dev", "Milo Mentor", User.Role.MENTOR),
    ("student@cohortly.dev", "Stella Student", User.Role.STUDENT),
]

EXTRA_STAFF = [
    ("sales2@cohortly.dev", "Sofia Seller", User.Role.SALES),
    ("instructor2@cohortly.dev", "Ivan Teacher", User.Role.INSTRUCTOR),
    ("mentor2@cohortly.dev", "Maya Guide", User.Role.MENTOR),
]

STUDENT_NAMES = [
    "Liam Carter",
    "Olivia Brooks",
    "Noah Patel",
    "Emma Rossi",
    "Lucas Meyer",
    "Mia Novak",
    "Ethan Silva",
    "Ava Kowalski",
    "Leo Dubois",
    "Zoe Tanaka",
    "Owen Murphy",
    "Chloe Haddad",
    "Finn Larsen",
    "Nora Schmidt",
    "Adam Cohen",
    "Lena Fischer",
    "Hugo Martin",
    "Ivy Nguyen",
]


def demo_password(role: str) -> str:
    return f"{role.capitalize()}{DEMO_PASSWORD_SUFFIX}"


def _ensure(email, full_name, role, password):
    user = User.objects.filter(email=email).first()
    if user is None:
        user = services.user_create(email=email, password=password, full_name=full_name, role=role)
    return user


def seed(*, stdout, style, context):
    created = {}
    for email, name, role in DEMO_USERS:
        created[role] = _ensure(email, name, role, demo_password(role))
    staff = [_ensure(e, n, r, demo_password(r)) for e, n, r in EXTRA_STAFF]
    students = [
        _ensure(
            f"{name.split()[0].lower()}.{name.split()[1].lower()}@example.com",
            name,
            User.Role.STUDENT,
            demo_password(User.Role.STUDENT),
        )
        for name in STUDENT_NAMES
    ]
    context["users"] = created
    context["sales"] = [created[User.Role.SALES], staff[0]]
    context["instructors"] = [created[User.Role.INSTRUCTOR], staff[1]]
    context["mentors"] = [created[User.Role.MENTOR], staff[2]]
    context["students"] = [created[User.Role.STUDENT], *students]

    stdout.write(style.MIGRATE_HEADING("Demo users (log in with these):"))
    demo_staff = [created[role] for _email, _name, role in DEMO_USERS] + staff
    for user, (email, _name, role) in zip(demo_staff, [*DEMO_USERS, *EXTRA_STAFF], strict=True):
        # The role the account has now: a run after someone changed it says so.
        changed = "" if user.role == role else f"  (loaded as {role}; changed since)"
        stdout.write(f"  {user.role:<10}  {email:<26}  {demo_password(role)}{changed}")
    stdout.write(
        f"  (and {len(STUDENT_NAMES)} more students, e.g. {students[0].email}, with the STUDENT password)"
    )
