"""A user changed in the Node backend during the parallel run, as Cohortly sees them
after the next import: passwords, sessions and Node tokens."""

import time
import uuid

import bcrypt
import jwt
import pytest
from rest_framework.test import APIClient

from accounts.models import User
from bootcamps.models import Bootcamp
from enrollments.models import Enrollment
from leads.models import Lead
from legacy.models import LegacyRefreshToken
from legacy.tests.conftest import PASSWORD, naive_utc
from legacy.tests.test_auth import LOGIN, ME, REFRESH, node_access_token
from legacy.tests.test_import import run_import
from legacy.tokens import token_hash

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

NEW_PASSWORD = "Changed-in-node-2025"


@pytest.fixture(autouse=True)
def production_hashers(settings):
    import cohortly.settings

    settings.PASSWORD_HASHERS = cohortly.settings.PASSWORD_HASHERS


def bearer(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def node_refresh(node, person, *, issued_at: int) -> str:
    """A refresh token the Node backend issued, with its row in refresh_tokens."""

    from legacy.tests.test_auth import REFRESH_SECRET

    raw = jwt.encode(
        {
            "userId": str(person["id"]),
            "iat": issued_at,
            "exp": issued_at + 7 * 86400,
            "jti": uuid.uuid4().hex,
        },
        REFRESH_SECRET,
        algorithm="HS256",
    )
    node.refresh_token(person, token_hash=token_hash(raw))
    return raw


def logged_in(person) -> dict:
    """A Cohortly login with the Node password: a token pair, and the hash upgraded."""
    response = APIClient().post(LOGIN, {"email": person["email"], "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def change(node, person, sql, params=(), *, minutes_ago=1):
    node.execute(
        f"UPDATE users SET {sql}, updated_at = %s WHERE id = %s",
        [*params, naive_utc(-minutes_ago / 1440), person["id"]],
    )


def test_a_change_in_node_other_than_the_password_keeps_the_argon2_hash_and_every_session(node, cutover):
    person = node.user(email="ada@node.example", role="ADMIN", updated_at=naive_utc(-30))
    node.user(role="ADMIN")  # so that one may be demoted
    run_import(node)
    pair = logged_in(person)
    upgraded = User.objects.get(pk=person["id"]).password
    assert upgraded.startswith("argon2$")
    node_access = node_access_token(User.objects.get(pk=person["id"]), iat=int(time.time()) - 600)

    change(node, person, "phone = '+49 30 555 0101', role = 'STUDENT'")
    run_import(node)

    user = User.objects.get(pk=person["id"])
    assert user.password == upgraded and user.token_generation == 0
    assert user.phone == "+49 30 555 0101" and user.role == "STUDENT"
    # Every session lives on, under the new role at once: a demoted ADMIN lists no users.
    me = bearer(pair["access"]).get(ME)
    assert me.status_code == 200 and me.json()["role"] == "STUDENT"
    assert bearer(pair["access"]).get("/api/v1/users/").status_code == 403
    assert bearer(node_access).get(ME).json()["role"] == "STUDENT"
    assert APIClient().post(REFRESH, {"refresh": pair["refresh"]}).status_code == 200
    assert APIClient().post(LOGIN, {"email": person["email"], "password": PASSWORD}).status_code == 200


def test_a_new_password_in_node_wins_ends_earlier_sessions_and_keeps_node_tokens_issued_since(node, cutover):
    person = node.user(email="ada@node.example", updated_at=naive_utc(-30))
    run_import(node)
    pair = logged_in(person)
    before_change = node_access_token(User.objects.get(pk=person["id"]), iat=int(time.time()) - 3600)

    new_hash = bcrypt.hashpw(NEW_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    change(node, person, "password_hash = %s", [new_hash])
    now = int(time.time())
    after_change = node_access_token(User.objects.get(pk=person["id"]), iat=now)
    refresh_after_change = node_refresh(node, person, issued_at=now)
    run_import(node)

    user = User.objects.get(pk=person["id"])
    assert user.password == f"legacy_bcrypt${new_hash}"
    # Sessions opened with the old password end, in Cohortly and in the Node backend.
    assert bearer(pair["access"]).get(ME).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401
    assert bearer(before_change).get(ME).status_code == 401
    # The Node backend's tokens issued since the change work on.
    assert bearer(after_change).get(ME).json()["id"] == str(person["id"])
    exchanged = APIClient().post(REFRESH, {"refresh": refresh_after_change})
    assert exchanged.status_code == 200, exchanged.content
    login = APIClient().post
    assert login(LOGIN, {"email": person["email"], "password": PASSWORD}).status_code == 401
    assert login(LOGIN, {"email": person["email"], "password": NEW_PASSWORD}).status_code == 200

    # A later change of anything else leaves those sessions alone.
    change(node, person, "full_name = 'Ada L.'", minutes_ago=0)
    run_import(node)
    assert bearer(after_change).get(ME).json()["full_name"] == "Ada L."


def test_a_deactivation_in_node_ends_access_and_a_reactivation_lets_new_node_tokens_in(node, cutover):
    person = node.user(email="ada@node.example", updated_at=naive_utc(-30))
    run_import(node)
    pair = logged_in(person)
    old_node_access = node_access_token(User.objects.get(pk=person["id"]), iat=int(time.time()) - 3600)

    change(node, person, "is_active = false")
    run_import(node)

    assert bearer(pair["access"]).get(ME).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401
    assert bearer(old_node_access).get(ME).status_code == 401
    assert APIClient().post(LOGIN, {"email": person["email"], "password": PASSWORD}).status_code == 401

    change(node, person, "is_active = true", minutes_ago=0)
    new_node_access = node_access_token(User.objects.get(pk=person["id"]), iat=int(time.time()))
    run_import(node)

    assert bearer(new_node_access).get(ME).status_code == 200
    assert bearer(old_node_access).get(ME).status_code == 401
    assert not LegacyRefreshToken.objects.filter(spent_at__isnull=False).exists()


def test_node_tokens_from_before_a_deactivation_that_came_with_the_first_import_stay_refused(node, cutover):
    """Deactivated in the Node backend before the first import: reactivated there
    later, the tokens it issued before the deactivation were let in again."""
    person = node.user(email="ada@node.example", is_active=False, updated_at=naive_utc(-1))
    run_import(node)
    assert not User.objects.get(pk=person["id"]).is_active
    before = node_access_token(User.objects.get(pk=person["id"]), iat=int(time.time()) - 2 * 86400)

    change(node, person, "is_active = true", minutes_ago=0)
    run_import(node)
    after = node_access_token(User.objects.get(pk=person["id"]), iat=int(time.time()))

    assert bearer(after).get(ME).status_code == 200
    assert bearer(before).get(ME).status_code == 401


@pytest.mark.parametrize(
    "other_change",
    [
        pytest.param("password_hash = ''", id="hash-emptied"),
        pytest.param("email = 'deleted-' || id::text", id="email-anonymised"),
        pytest.param("password_hash = ''", id="stamp-unstorable"),
    ],
)
def test_a_deactivation_comes_over_even_when_the_rest_of_its_row_is_refused(
    node, cutover, other_change, request
):
    """A soft delete in Node often blanks the hash or anonymises the email in the
    same edit: the row is refused for that, and the deactivation still ends access."""
    person = node.user(email="soft@node.example", updated_at=naive_utc(-30))
    run_import(node)
    pair = logged_in(person)
    node_access = node_access_token(User.objects.get(pk=person["id"]), iat=int(time.time()) - 60)

    change(node, person, f"is_active = false, {other_change}")
    unstorable = request.node.callspec.id == "stamp-unstorable"
    if unstorable:  # a stamp Python can't hold: it was a crash of every run from then on
        node.execute("UPDATE users SET updated_at = 'infinity' WHERE id = %s", [person["id"]])
    out, report = run_import(node, expect=1)  # 1: rows were refused

    assert [row["legacy_id"] for row in report["refused"]] == [str(person["id"])]
    assert not User.objects.get(pk=person["id"]).is_active
    assert bearer(pair["access"]).get(ME).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401
    assert bearer(node_access).get(ME).status_code == 401
    assert APIClient().post(LOGIN, {"email": person["email"], "password": PASSWORD}).status_code == 401
    assert "deactivated here too" in out

    if unstorable:
        return
    # Fixed and reactivated in Node: the row comes over, and Node tokens issued since work.
    change(node, person, "is_active = true, email = 'soft@node.example'", minutes_ago=0)
    if "password_hash" in other_change:
        node.execute(
            "UPDATE users SET password_hash = %s WHERE id = %s",
            [bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode(), person["id"]],
        )
    run_import(node)
    assert User.objects.get(pk=person["id"]).is_active
    assert (
        bearer(node_access_token(User.objects.get(pk=person["id"]), iat=int(time.time()))).get(ME).status_code
        == 200
    )


def test_a_user_deleted_in_node_and_restored_can_use_new_node_tokens(node, cutover):
    person = node.user(email="back@node.example", updated_at=naive_utc(-30))
    run_import(node)
    old = node_access_token(User.objects.get(pk=person["id"]), iat=int(time.time()) - 60)
    node.execute("DELETE FROM users WHERE id = %s", [person["id"]])
    run_import(node)
    assert bearer(old).get(ME).status_code == 401

    time.sleep(1)  # a token issued after the deletion, to the second
    node.user(id=person["id"], email="back@node.example", updated_at=naive_utc(0))
    run_import(node)
    assert User.objects.get(pk=person["id"]).is_active
    fresh = node_access_token(User.objects.get(pk=person["id"]), iat=int(time.time()))
    assert bearer(fresh).get(ME).status_code == 200
    assert bearer(old).get(ME).status_code == 401


def test_a_user_or_refresh_token_deleted_in_node_opens_nothing_after_the_next_import(node, cutover):
    gone = node.user(email="gone@node.example")
    stays = node.user(email="stays@node.example")
    now = int(time.time())
    gone_refresh = node_refresh(node, gone, issued_at=now)
    deleted_refresh = node_refresh(node, stays, issued_at=now)
    kept_refresh = node_refresh(node, stays, issued_at=now)
    run_import(node)
    pair = logged_in(gone)
    gone_access = node_access_token(User.objects.get(pk=gone["id"]))
    stays_access = node_access_token(User.objects.get(pk=stays["id"]))

    node.execute("DELETE FROM users WHERE id = %s", [gone["id"]])  # its refresh tokens go with it
    node.execute("DELETE FROM refresh_tokens WHERE token_hash = %s", [token_hash(deleted_refresh)])
    out, report = run_import(node)

    gone_user = User.objects.get(pk=gone["id"])  # kept, as every row gone from the source
    assert not gone_user.is_active
    assert bearer(gone_access).get(ME).status_code == 401
    assert bearer(pair["access"]).get(ME).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": gone_refresh}).status_code == 401
    assert APIClient().post(LOGIN, {"email": gone["email"], "password": PASSWORD}).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": deleted_refresh}).status_code == 401
    # The user still in the source keeps what the source still has.
    assert bearer(stays_access).get(ME).status_code == 200
    assert APIClient().post(REFRESH, {"refresh": kept_refresh}).status_code == 200

    tokens = dict(LegacyRefreshToken.objects.values_list("token_hash", "legacy_id"))
    assert sorted(report["missing_in_source"], key=lambda row: (row["table"], row["legacy_id"])) == sorted(
        [
            {"table": "users", "legacy_id": str(gone["id"]), "id": str(gone["id"]), "access_ended": True},
            *(
                {
                    "table": "refresh_tokens",
                    "legacy_id": str(tokens[token_hash(raw)]),
                    "id": str(LegacyRefreshToken.objects.get(token_hash=token_hash(raw)).pk),
                    "revoked": True,
                }
                for raw in (gone_refresh, deleted_refresh)
            ),
        ],
        key=lambda row: (row["table"], row["legacy_id"]),
    )
    assert f"users {gone['id']} (Cohortly id {gone['id']}): deactivated, every session ended" in out
    assert "Nothing new or changed" not in out  # it ended access: that is a change

    _, again = run_import(node)  # still listed; nothing more to end or revoke
    assert again["missing_in_source"] == [
        {"table": "users", "legacy_id": str(gone["id"]), "id": str(gone["id"])}
    ]


def test_a_user_upgraded_here_before_node_hashes_were_kept_keeps_their_password_and_sessions(node, cutover):
    """Users who signed in to Cohortly before the importer remembered Node hashes
    have no record of theirs: a Node change to anything but the password keeps
    Cohortly's hash and sessions, and that Node hash becomes the record; a new
    password in the Node backend after that wins, as for everyone."""
    from legacy.models import LegacyUserState

    person = node.user(email="early@node.example", updated_at=naive_utc(-30))
    run_import(node)
    pair = logged_in(person)
    LegacyUserState.objects.filter(user_id=person["id"]).delete()  # as before the importer kept them
    upgraded = User.objects.get(pk=person["id"]).password

    change(node, person, "phone = '+49 30 555 0102'", minutes_ago=2)
    run_import(node)
    user = User.objects.get(pk=person["id"])
    assert (user.password, user.phone) == (upgraded, "+49 30 555 0102")
    assert bearer(pair["access"]).get(ME).status_code == 200

    new_hash = bcrypt.hashpw(NEW_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    change(node, person, "password_hash = %s", [new_hash], minutes_ago=1)
    run_import(node)
    assert User.objects.get(pk=person["id"]).password == f"legacy_bcrypt${new_hash}"
    assert bearer(pair["access"]).get(ME).status_code == 401


def test_a_user_upgraded_here_before_node_hashes_were_kept_keeps_it_after_a_refused_deactivation(node):
    """Ending such a user's sessions (a Node deactivation, refused here for a
    blanked hash) recorded their Node hash as "": the next Node change then
    looked like a new password and put the Node hash over Cohortly's."""
    from legacy.models import LegacyUserState
    from legacy.tests.conftest import PASSWORD_HASH

    person = node.user(email="early2@node.example", updated_at=naive_utc(-30))
    run_import(node)
    logged_in(person)
    LegacyUserState.objects.filter(user_id=person["id"]).delete()  # as before the importer kept them
    upgraded = User.objects.get(pk=person["id"]).password
    change(node, person, "is_active = false, password_hash = ''", minutes_ago=3)
    run_import(node, expect=1)
    change(node, person, "is_active = true, password_hash = %s", [PASSWORD_HASH], minutes_ago=1)
    run_import(node)
    user = User.objects.get(pk=person["id"])
    assert (user.password, user.is_active) == (upgraded, True)


def test_a_user_deactivated_before_being_deleted_in_node_gives_the_address_to_a_new_registration(node):
    """Deactivating a user before deleting them: the account kept its import
    stamp, so its address was never released and the new Node user with it was
    refused on every run."""
    old = node.user(email="again@node.example", is_active=False)
    run_import(node)
    node.execute("DELETE FROM users WHERE id = %s", [old["id"]])
    new = node.user(email="again@node.example", updated_at=naive_utc(0))
    # As for any deleted user: this run finds the deletion after the users it read
    # (so it refuses the new one: the address is still held), the next releases it.
    run_import(node, expect=1)
    _, report = run_import(node)
    assert report["refused"] == []
    assert User.objects.get(email="again@node.example").pk == new["id"]
    assert User.objects.get(pk=old["id"]).email.endswith(".invalid")
    _, report = run_import(node)  # and nothing more to do
    assert all(c["created"] == c["updated"] == 0 for c in report["tables"].values())


def test_a_source_that_lost_many_users_at_once_deactivates_nobody_until_told_to(node, cutover):
    """A wrong --source or a truncated users table is not a day's deletions: past
    10 users and 5% of those imported gone at once, nobody is deactivated and the
    report says why; --end-access-of-many-gone does it. A deactivated user who comes
    back to the source is imported again, active. The last active ADMIN stays."""
    admin = node.user(email="boss@node.example", role="ADMIN")
    people = [node.user(email=f"gone{n}@node.example") for n in range(12)]
    run_import(node)
    node.execute("DELETE FROM users WHERE email LIKE 'gone%' OR role = 'ADMIN'")

    out, report = run_import(node, expect=1)  # 1: a warning asks for a look
    assert User.objects.filter(legacy_id__isnull=False, is_active=True).count() == 13
    assert "13 of the 13 imported users are gone from the source" in out
    assert "--end-access-of-many-gone" in report["warnings"][0]
    assert not any(row.get("access_ended") for row in report["missing_in_source"])

    out, report = run_import(node, "--end-access-of-many-gone", expect=1)
    assert User.objects.filter(legacy_id__isnull=False, is_active=True).get().email == admin["email"]
    assert "Cohortly's last active ADMIN" in out
    assert sum(bool(row.get("access_ended")) for row in report["missing_in_source"]) == 12

    back = people[0]
    node.user(id=back["id"], email=back["email"], updated_at=back["updated_at"])  # restored, as it was
    run_import(node, "--end-access-of-many-gone", expect=1)
    assert User.objects.get(pk=back["id"]).is_active


def test_a_source_that_lost_many_deactivated_users_keeps_their_addresses_and_says_so(node):
    """The guard against a wrong --source holds back releasing the addresses of
    deactivated users too, and the report says so (it said nothing)."""
    node.user(email="boss@node.example", role="ADMIN")
    for n in range(12):
        node.user(email=f"old{n}@node.example", is_active=False)
    run_import(node)
    node.execute("DELETE FROM users WHERE email LIKE 'old%'")

    _, report = run_import(node, expect=1)
    assert User.objects.filter(email__startswith="old", legacy_updated_at__isnull=False).count() == 12
    assert report["warnings"] == [
        "12 deactivated users are gone from the source among more than 5% of the users imported: their "
        "addresses stay theirs. Check --source; if the Node backend really deleted them, run again with "
        "--end-access-of-many-gone."
    ]
    _, report = run_import(node, "--end-access-of-many-gone")
    assert not User.objects.filter(email__startswith="old", legacy_updated_at__isnull=False).exists()
    assert report["warnings"] == []


def test_deletions_of_earlier_runs_dont_count_towards_holding_back_a_release(node):
    """Users deleted in earlier runs are missing from the source on every run;
    counted, they soon tripped the guard, and every later deactivated user's
    address was held back with a warning to check --source."""
    node.user(email="boss@node.example", role="ADMIN")
    people = [node.user(email=f"p{n}@node.example") for n in range(60)]
    run_import(node)
    for chunk in (people[:6], people[6:12]):
        node.execute("DELETE FROM users WHERE id = ANY(%s)", [[p["id"] for p in chunk]])
        _, report = run_import(node)
        assert report["warnings"] == []
    old = node.user(email="old@node.example", is_active=False)
    run_import(node)
    node.execute("DELETE FROM users WHERE id = %s", [old["id"]])
    _, report = run_import(node)
    assert report["warnings"] == []
    assert User.objects.get(pk=old["id"]).legacy_updated_at is None


def test_two_admins_deactivated_in_one_run_leave_one_active(node, cutover):
    """Each was checked against the database before the batch was written, so each
    saw the other still active, and both went: no active ADMIN was left."""
    first = node.user(email="first-admin@node.example", role="ADMIN", updated_at=naive_utc(-30))
    second = node.user(email="second-admin@node.example", role="ADMIN", updated_at=naive_utc(-30))
    run_import(node)
    assert User.objects.filter(role="ADMIN", is_active=True).count() == 2
    change(node, first, "is_active = false")
    change(node, second, "is_active = false")
    _, report = run_import(node, expect=1)
    assert User.objects.filter(role="ADMIN", is_active=True).count() == 1
    assert [row["reason"] for row in report["refused"]] == [
        "this would leave Cohortly without an active ADMIN"
    ]


def test_a_role_change_in_node_cohortly_would_refuse_keeps_the_role_and_takes_the_rest(node, cutover):
    """What an ADMIN may not do here, the Node backend's change may not either: a
    student holding a seat stays a student, and the last active ADMIN stays one.
    Such a row is listed with the reason until either side changes. A role kept
    doesn't hold back the rest of the change: a mentor still on a bootcamp's
    staff, fired in Node (another role and deactivated in one edit), loses
    access at the next run, and takes the new role once off the staff."""
    student = node.user(email="seated@node.example", role="STUDENT", updated_at=naive_utc(-30))
    admin = node.user(email="only-admin@node.example", role="ADMIN", updated_at=naive_utc(-30))
    mentor = node.user(email="mentor@node.example", role="MENTOR", updated_at=naive_utc(-30))
    node.enrollment(student, node.bootcamp(), status="ACTIVE")
    camp = node.bootcamp(mentors=[mentor])
    run_import(node)
    pair = logged_in(mentor)
    seated_node_access = node_access_token(User.objects.get(pk=student["id"]), iat=int(time.time()) - 3600)

    new_hash = bcrypt.hashpw(NEW_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    change(node, student, "role = 'MENTOR', full_name = 'Renamed', password_hash = %s", [new_hash])
    change(node, admin, "role = 'SALES'")
    change(node, mentor, "role = 'STUDENT', is_active = false")
    _, report = run_import(node, expect=1)  # 1: some rows (or parts of them) were refused

    seated = User.objects.get(pk=student["id"])
    assert (seated.role, seated.full_name) == ("STUDENT", "Renamed")
    # The new password came over, and ended the Node tokens issued before it.
    assert APIClient().post(LOGIN, {"email": student["email"], "password": NEW_PASSWORD}).status_code == 200
    assert bearer(seated_node_access).get(ME).status_code == 401
    assert User.objects.get(pk=admin["id"]).role == "ADMIN"
    fired = User.objects.get(pk=mentor["id"])
    assert (fired.role, fired.is_active) == ("MENTOR", False)
    assert APIClient().post(LOGIN, {"email": mentor["email"], "password": PASSWORD}).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401
    assert bearer(pair["access"]).get(ME).status_code == 401
    reasons = {row["legacy_id"]: row["reason"] for row in report["refused"]}
    assert reasons[str(student["id"])] == (
        "role STUDENT to MENTOR: This student holds 1 active or waitlisted enrollment: complete, drop "
        "or cancel it first. Its other changes came over; the role comes with the user's next change in the "
        "Node backend."
    )
    assert reasons[str(admin["id"])] == "this would leave Cohortly without an active ADMIN"
    assert reasons[str(mentor["id"])].startswith(
        "role MENTOR to STUDENT: This mentor is among the mentors of"
    )
    assert report["tables"]["users"]["updated"] == 2 and report["tables"]["users"]["refused"] == 1

    # Counted as imported: the next run changes nothing, and leaves what Cohortly changes alone.
    User.objects.filter(pk=mentor["id"]).update(full_name="Changed here")
    _, again = run_import(node, expect=1)  # the admin's change, refused whole, still is
    assert [row["legacy_id"] for row in again["refused"]] == [str(admin["id"])]
    assert all(c["updated"] == 0 for c in again["tables"].values())
    assert User.objects.get(pk=mentor["id"]).full_name == "Changed here"
    # Off the staff here, the role comes with the user's next change in Node.
    Bootcamp.objects.get(legacy_id=camp["id"]).mentors.clear()
    node.execute("DELETE FROM bootcamp_mentors WHERE mentor_id = %s", [mentor["id"]])
    change(node, mentor, "phone = '+44 20 7946 0958'", minutes_ago=0)
    _, report = run_import(node, expect=1)
    assert [row["legacy_id"] for row in report["refused"]] == [str(admin["id"])]
    assert User.objects.get(pk=mentor["id"]).role == "STUDENT"


def test_the_imported_one_of_two_users_alike_keeps_the_email_when_the_other_is_edited(node, cutover):
    """Two Node users whose emails differ only in case: the one updated last came
    over. An edit of the other in Node (now the one updated last) must not cut the
    imported one off: it keeps the address, and its new password comes over."""
    older = node.user(email="ada@x.io", updated_at=naive_utc(-9))
    newer = node.user(email=" Ada@X.io ", updated_at=naive_utc(-2))
    old_lead = node.lead(email="bo@x.io", updated_at=naive_utc(-9))
    new_lead = node.lead(email="BO@x.io", updated_at=naive_utc(-2))
    run_import(node, expect=1)
    assert User.objects.get(email="ada@x.io").pk == newer["id"]

    new_hash = bcrypt.hashpw(NEW_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    change(node, newer, "password_hash = %s", [new_hash], minutes_ago=2)
    change(node, older, "phone = '+1 555 0102'", minutes_ago=1)
    node.execute(
        "UPDATE leads SET status = 'QUALIFIED', updated_at = %s WHERE id = %s",
        [naive_utc(-2 / 1440), new_lead["id"]],
    )
    node.execute(
        "UPDATE leads SET full_name = 'Bo', updated_at = %s WHERE id = %s", [naive_utc(), old_lead["id"]]
    )
    _, report = run_import(node, expect=1)

    assert {row["legacy_id"]: row["reason"] for row in report["refused"]} == {
        str(
            older["id"]
        ): f"email ada@x.io is also the email of users {newer['id']}, imported earlier, which keeps it",
        str(old_lead["id"]): f"email bo@x.io is also the email of leads {new_lead['id']}, imported earlier, "
        "which keeps it",
    }
    assert APIClient().post(LOGIN, {"email": "ada@x.io", "password": NEW_PASSWORD}).status_code == 200
    assert APIClient().post(LOGIN, {"email": "ada@x.io", "password": PASSWORD}).status_code == 401
    assert Lead.objects.get(legacy_id=new_lead["id"]).status == "QUALIFIED"
    assert not Lead.objects.filter(legacy_id=old_lead["id"]).exists()


def test_a_refresh_token_row_re_inserted_in_node_under_a_new_id_is_the_same_token(node, cutover):
    """One row per token, found by its hash. A token the Node backend deleted and
    inserted again under a new id (a restore, a copy between databases) is the
    token imported before: it takes the new id and stays spent if it was. Two
    rows whose hashes differ only in case can't both come over: the first keeps
    it, the other is refused with the reason, and the run goes on."""
    person = node.user(email="ada@node.example", updated_at=naive_utc(-30))
    raw = node_refresh(node, person, issued_at=int(time.time()))
    spent = node_refresh(node, person, issued_at=int(time.time()))
    twin_hash = uuid.uuid4().hex * 2
    first = node.refresh_token(person, token_hash=twin_hash)
    second = node.refresh_token(person, token_hash=twin_hash.upper())
    _, report = run_import(node, expect=1)
    assert {row["legacy_id"]: row["reason"] for row in report["refused"]} == {
        str(max(first["id"], second["id"])): "its token_hash is also the hash of refresh_tokens "
        f"{min(first['id'], second['id'])}, which keeps it"
    }
    assert APIClient().post(REFRESH, {"refresh": spent}).status_code == 200

    for token in (raw, spent):
        node.execute(
            "WITH gone AS (DELETE FROM refresh_tokens WHERE token_hash = %s RETURNING *) "
            "INSERT INTO refresh_tokens SELECT gen_random_uuid(), user_id, token_hash, expires_at, revoked_at, "
            "created_at FROM gone",
            [token_hash(token)],
        )
    change(node, person, "full_name = 'Ada L.'")
    _, report = run_import(node, expect=1)  # the twin is still refused

    assert [row["legacy_id"] for row in report["refused"]] == [str(max(first["id"], second["id"]))]
    assert report["tables"]["refresh_tokens"]["updated"] == 2
    assert report["missing_in_source"] == []  # nothing revoked as gone
    assert User.objects.get(pk=person["id"]).full_name == "Ada L."
    moved = LegacyRefreshToken.objects.get(token_hash=token_hash(raw))
    in_node = node.execute(
        "SELECT id FROM refresh_tokens WHERE token_hash = %s", [token_hash(raw)]
    ).fetchone()
    assert moved.legacy_id == in_node[0]
    assert APIClient().post(REFRESH, {"refresh": raw}).status_code == 200
    assert APIClient().post(REFRESH, {"refresh": spent}).status_code == 401  # spent stays spent


def test_a_source_that_lost_many_refresh_tokens_at_once_revokes_none_until_told_to(node, cutover):
    """As for users: past 10 and 5% of the exchangeable tokens gone at once, the
    source is suspect (a wrong --source, a truncated table). Nothing is revoked,
    the run exits 1 with a warning, and --end-access-of-many-gone revokes them."""
    person = node.user(email="ada@node.example")
    now = int(time.time())
    raws = [node_refresh(node, person, issued_at=now - n) for n in range(12)]
    run_import(node)
    node.execute("DELETE FROM refresh_tokens")

    out, report = run_import(node, expect=1)
    assert "12 of the 12 Node refresh tokens still exchangeable here are gone from the source" in out
    assert "--end-access-of-many-gone" in report["warnings"][0]
    assert not LegacyRefreshToken.objects.filter(revoked_at__isnull=False).exists()
    assert len(report["missing_in_source"]) == 12  # listed all the same, none "revoked"
    assert not any(row.get("revoked") for row in report["missing_in_source"])
    assert APIClient().post(REFRESH, {"refresh": raws[0]}).status_code == 200

    _, report = run_import(node, "--end-access-of-many-gone")
    assert LegacyRefreshToken.objects.filter(revoked_at__isnull=False).count() == 11  # one was spent above
    assert APIClient().post(REFRESH, {"refresh": raws[1]}).status_code == 401


def test_rows_deleted_in_node_and_made_again_come_over_as_the_same_thing(node, cutover):
    """During the parallel run the Node backend deletes and makes again: a user
    who was deleted registers again with the address, a dropped enrollment
    (deleted there) is made again, a lead is deleted and entered again. The
    row kept here no longer blocks the new one: the address goes to the new
    account (the old one keeps its records under a released address), and an
    enrollment or open lead is the same one, taking the new row's id."""
    gone_user = node.user(email="back@node.example")
    student = node.user(email="student@node.example")
    camp = node.bootcamp()
    first = node.enrollment(student, camp, status="ACTIVE")
    lead = node.lead(email="prospect@mail.example", status="CONTACTED", notes="Called once.")
    run_import(node)
    kept_lead = Lead.objects.get(legacy_id=lead["id"])

    node.execute("DELETE FROM users WHERE id = %s", [gone_user["id"]])
    run_import(node)  # deactivated here
    new_hash = bcrypt.hashpw(NEW_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    again = node.user(email="Back@node.example", password_hash=new_hash)
    node.execute("DELETE FROM enrollments WHERE id = %s", [first["id"]])
    second = node.enrollment(student, camp, status="ACTIVE")
    node.execute("DELETE FROM leads WHERE id = %s", [lead["id"]])
    lead_again = node.lead(email="prospect@mail.example", status="QUALIFIED", notes="Called once.\nKeen.")

    _, report = run_import(node)

    assert report["refused"] == []
    assert User.objects.get(pk=again["id"]).email == "back@node.example"
    old = User.objects.get(pk=gone_user["id"])
    assert old.email == f"back@node.example.released-{str(gone_user['id'])[:8]}.invalid" and not old.is_active
    assert {(row["legacy_id"], row["field"]) for row in report["adjusted"]} == {
        (str(gone_user["id"]), "email")
    }
    assert (
        APIClient().post(LOGIN, {"email": "back@node.example", "password": NEW_PASSWORD}).status_code == 200
    )
    enrollment = Enrollment.objects.get(student_id=student["id"])
    assert (enrollment.legacy_id, enrollment.status) == (second["id"], "ACTIVE")
    kept_lead.refresh_from_db()
    assert (kept_lead.legacy_id, kept_lead.status) == (lead_again["id"], "QUALIFIED")
    assert Lead.objects.filter(email="prospect@mail.example").count() == 1
    # Only the deleted account is gone: the old enrollment's and lead's rows live on as the new ones.
    assert report["missing_in_source"] == [
        {"table": "users", "legacy_id": str(gone_user["id"]), "id": str(gone_user["id"])}
    ]

    _, report = run_import(node)  # and nothing more to do
    assert report["refused"] == [] and all(
        c["created"] == c["updated"] == 0 for c in report["tables"].values()
    )


def test_only_a_row_that_comes_over_takes_up_a_kept_lead(node):
    """A lead deleted in Node and made again twice: the first by id refers to
    an owner that wasn't imported, so it is refused for that; the valid one is
    the kept lead, and isn't refused as a second open lead."""
    held = node.lead(email="p@mail.example", status="CONTACTED")
    run_import(node)
    kept = Lead.objects.get(legacy_id=held["id"])
    node.execute("DELETE FROM leads WHERE id = %s", [held["id"]])
    never_imported = node.user(role="SALES", password_hash="not-a-bcrypt-hash")
    bad = node.lead(id=uuid.UUID(int=1), email="p@mail.example", owner_id=never_imported["id"])
    good = node.lead(id=uuid.UUID(int=2), email="p@mail.example", status="QUALIFIED")

    _, report = run_import(node, expect=1)

    reasons = {row["legacy_id"]: row["reason"] for row in report["refused"] if row["table"] == "leads"}
    assert reasons == {str(bad["id"]): f"its owner users {never_imported['id']} was not imported"}
    kept.refresh_from_db()
    assert (kept.legacy_id, kept.status) == (good["id"], "QUALIFIED")


def test_a_released_address_already_taken_gets_another_and_the_run_goes_on(node):
    gone = node.user(email="back@node.example")
    run_import(node)
    node.execute("DELETE FROM users WHERE id = %s", [gone["id"]])
    run_import(node)  # deactivated here
    squatter = f"back@node.example.released-{str(gone['id'])[:8]}.invalid"
    User.objects.create_user(email=squatter, password="x-Long-enough-1234", full_name="Squatter")
    again = node.user(email="back@node.example")

    _, report = run_import(node)

    assert User.objects.get(pk=again["id"]).email == "back@node.example"
    assert User.objects.get(pk=gone["id"]).email == f"back@node.example.released-{gone['id']}.invalid"
    assert User.objects.filter(email=squatter).exists()


def test_an_address_is_released_only_to_a_row_that_comes_over(node):
    """The only admin takes a gone user's address in Node and is deactivated in
    the same edit: refused whole (Cohortly keeps an active admin), so the old
    account keeps its address too."""
    gone = node.user(email="back@node.example")
    admin = node.user(email="boss@node.example", role="ADMIN")
    run_import(node)
    User.objects.exclude(pk=admin["id"]).filter(role="ADMIN").update(is_active=False)
    node.execute("DELETE FROM users WHERE id = %s", [gone["id"]])
    run_import(node)
    change(node, admin, "email = 'back@node.example', is_active = false")

    _, report = run_import(node, expect=1)

    assert User.objects.get(pk=admin["id"]).email == "boss@node.example"
    assert User.objects.get(pk=gone["id"]).email == "back@node.example"
    assert report["adjusted"] == []


@pytest.mark.django_db(transaction=True)
def test_a_password_changed_here_while_an_import_runs_is_kept(node):
    """The importer wrote back the password it had read: a new password set here
    while it ran (its row still locked by that change) was undone."""
    import threading

    import psycopg
    from django import db
    from django.contrib.auth.hashers import make_password

    from cohortly.tests.live_servers import database_url_for_servers

    person = node.user(email="ada@node.example", updated_at=naive_utc(-30))
    run_import(node)
    change(node, person, "full_name = 'Ada L.'")  # a change in the Node backend, not to the password
    new_password = make_password("Changed-Here-2026!")
    url = database_url_for_servers()
    done = {}
    with psycopg.connect(url) as changing, psycopg.connect(url, autocommit=True) as watching:
        changing.execute("UPDATE accounts_user SET password = %s WHERE id = %s", [new_password, person["id"]])

        def run():
            try:
                done["report"] = run_import(node)
            finally:
                db.connection.close()  # this thread's own

        importing = threading.Thread(target=run)
        importing.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until the import waits for that row
            waiting = watching.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
                [connection_name(url)],
            ).fetchone()[0]
            if waiting:
                break
            time.sleep(0.05)
        assert waiting, "the import never reached the row being changed"
        changing.commit()
        importing.join(60)
    assert "report" in done
    user = User.objects.get(pk=person["id"])
    assert (user.full_name, user.password) == ("Ada L.", new_password)


def connection_name(url: str) -> str:
    return url.rsplit("/", 1)[1]
