"""LeadFilterSet on its own: the API and the sales pages both go through it."""

import datetime
import uuid
from types import SimpleNamespace
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import QueryDict
from django.utils import timezone

from accounts.models import User
from leads.filtersets import LeadFilterSet
from leads.models import Lead
from leads.tests.factories import BootcampFactory, LeadFactory

pytestmark = pytest.mark.django_db

Status = Lead.Status


def run(query: str, user=None):
    request = SimpleNamespace(user=user or AnonymousUser())
    filterset = LeadFilterSet(QueryDict(query), queryset=Lead.objects.all(), request=request)
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs)


def errors(query: str):
    filterset = LeadFilterSet(QueryDict(query), queryset=Lead.objects.all(), request=None)
    assert not filterset.is_valid()
    return filterset.errors


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        me=make_user(User.Role.SALES, full_name="Sam Sales"),
        other=make_user(User.Role.SALES, full_name="Olga Other"),
    )


def test_search_matches_name_email_and_phone_case_insensitively(db):
    ana = LeadFactory(full_name="Ana Lima", email="ana@example.org", phone="+351 912 000")
    bob = LeadFactory(full_name="Bob", email="bob@lima-corp.example", phone="")
    cid = LeadFactory(full_name="Cid", email="cid@example.org", phone="+1 555 912")
    assert run("search=lima") == [bob, ana]
    assert run("search=ANA@EXAMPLE") == [ana]
    assert run("search=912") == [cid, ana]
    assert run("search=%20%20") == [cid, bob, ana]  # blank is no filter
    assert run("search=nobody") == []


@pytest.mark.parametrize(
    "term", ["759893188", "+44759893188", "+44 759 893188", "759-893-188", "(759) 893.188", "893188"]
)
def test_a_phone_number_matches_however_it_is_spaced(db, term):
    yusuf = LeadFactory(full_name="Yusuf Moreau", phone="+44 (759) 893-188")
    LeadFactory(full_name="Other", phone="+45 759 893188", email="other@example.org")
    LeadFactory(full_name="Digits in the email", phone="", email="x759893188x@example.org")
    found = run(f"search={quote(term)}")
    assert yusuf in found
    if term.startswith("+44"):
        assert found == [yusuf]


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("0659 629903", {"umar", "other"}),  # national: the number under any country code
        ("+33 659 629903", {"umar"}),  # international: not under another code
        ("0033 659 629903", {"umar"}),
        ("+33 6 12 34 56 78", {"lea"}),  # international finds the number written nationally
        ("06 12 34 56 78", {"lea"}),
        ("+1 415 555 0100", {"sam"}),
        ("(415) 555-0100", {"sam"}),
        ("+44 659 629903", {"other"}),
        ("+33 6 59 62 99 03", {"umar"}),  # not "+44 20 5962 9903", which holds 059629903 inside
        ("+33 (0)6 59 62 99 03", {"umar"}),  # the trunk 0 in brackets, as signatures write it
        ("+33(0)659629903", {"umar"}),
        ("+33 (0)6 12 34 56 78", {"lea"}),
    ],
)
def test_a_phone_number_matches_written_nationally_or_with_its_country_code(db, term, found):
    leads = {
        "umar": LeadFactory(full_name="Umar", phone="+33 659 629903"),
        "other": LeadFactory(full_name="Other", phone="+44 659 629903", email="other@example.org"),
        "lea": LeadFactory(full_name="Lea", phone="06 12 34 56 78"),
        "sam": LeadFactory(full_name="Sam", phone="+1 415 555 0100"),
        "london": LeadFactory(full_name="London", phone="+44 20 5962 9903"),
    }
    matched = {name for name, lead in leads.items() if lead in run(f"search={quote(term)}")}
    assert matched == found


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("Waller 020 7946 0000", {"phoebe"}),
        ("Waller +44 (20) 7946 0000", {"phoebe"}),
        ("Waller +44 (0)20 7946 0000", {"phoebe"}),
        ("020 7946 0000 Waller", {"phoebe"}),
        ("Waller 02079460000", {"phoebe"}),
        ("Waller 7946 0000", {"phoebe"}),
        ("Waller 020 7946 0001", set()),  # the number must be the one
        ("Nobody 020 7946 0000", set()),  # and so must the other words
    ],
)
def test_a_name_beside_a_number_spread_over_several_words_finds_the_lead(db, term, found):
    """ "020 7946 0000" found her, and "Waller 020 7946 0000" didn't: "020" alone is
    no number, so the words were matched one by one."""
    leads = {
        "phoebe": LeadFactory(full_name="Phoebe Waller", phone="+44 20 7946 0000"),
        "twin": LeadFactory(full_name="Phoebe Other", phone="+44 20 7946 0000", email="twin@example.org"),
    }
    matched = {name for name, lead in leads.items() if lead in run(f"search={quote(term)}")}
    assert matched == found


def test_a_term_with_separators_still_matches_them_as_written(db):
    # Not a phone number: its dashes and dots are part of a name or an address.
    ana = LeadFactory(full_name="Ana-Lu", email="ana.lu@example.org", phone="")
    LeadFactory(full_name="Analu", email="analu@example.org", phone="")
    assert run("search=ana-lu") == [ana]
    assert run("search=ana.lu@") == [ana]


def test_status_takes_several_values(db):
    new, contacted = LeadFactory(), LeadFactory(status=Status.CONTACTED)
    lost = LeadFactory(status=Status.LOST, lost_reason="x")
    assert run("status=NEW") == [new]
    assert run("status=CONTACTED&status=LOST") == [lost, contacted]
    assert "status" in errors("status=PENDING")


def test_source(db):
    ads = LeadFactory(source=Lead.Source.ADS)
    LeadFactory(source=Lead.Source.WEBSITE)
    assert run("source=ADS") == [ads]
    assert "source" in errors("source=TV")


def test_owner_me_mine_unassigned_and_id(people):
    mine = LeadFactory(owner=people.me)
    theirs = LeadFactory(owner=people.other)
    nobodys = LeadFactory()
    assert run("owner=me", people.me) == [mine]
    assert run("owner=mine", people.me) == [mine]
    assert run("owner=me", people.other) == [theirs]
    assert run("owner=unassigned") == [nobodys]
    assert run(f"owner={people.other.pk}") == [theirs]
    assert run("owner=") == [nobodys, theirs, mine]
    # Without a signed-in user "me" is nobody, never everybody.
    assert run("owner=me") == []
    assert "owner" in errors("owner=someone")


def test_owner_choices_for_a_select(people, make_user):
    make_user(User.Role.INSTRUCTOR, full_name="Iris")
    make_user(User.Role.SALES, full_name="Gone", is_active=False)
    admin = make_user(User.Role.ADMIN, full_name="Ada")
    field = LeadFilterSet(request=None).form.fields["owner"]
    assert list(field.choices) == [
        ("me", "Me"),
        ("unassigned", "Unassigned"),
        (str(admin.pk), "Ada"),
        (str(people.other.pk), "Olga Other"),
        (str(people.me.pk), "Sam Sales"),
    ]


def test_bootcamp(db):
    alpha, beta = BootcampFactory(), BootcampFactory()
    lead = LeadFactory(bootcamp=alpha)
    LeadFactory(bootcamp=beta)
    LeadFactory()
    assert run(f"bootcamp={alpha.pk}") == [lead]
    assert "bootcamp" in errors("bootcamp=999999")


def _created(lead, when):
    Lead.objects.filter(pk=lead.pk).update(created_at=when)
    return lead


def test_created_range_is_inclusive_days_in_the_current_time_zone(db, settings):
    settings.TIME_ZONE = "Europe/Paris"
    paris = ZoneInfo("Europe/Paris")
    with timezone.override(paris):
        # 00:30 on 1 March in Paris is still 28 February in UTC.
        early = _created(LeadFactory(), datetime.datetime(2026, 3, 1, 0, 30, tzinfo=paris))
        late = _created(LeadFactory(), datetime.datetime(2026, 3, 31, 23, 59, tzinfo=paris))
        before = _created(LeadFactory(), datetime.datetime(2026, 2, 28, 23, 59, tzinfo=paris))
        after = _created(LeadFactory(), datetime.datetime(2026, 4, 1, 0, 0, tzinfo=paris))
        assert run("created_after=2026-03-01&created_before=2026-03-31&ordering=created_at") == [early, late]
        assert run("created_before=2026-02-28") == [before]
        assert run("created_after=2026-04-01") == [after]
    assert "created_after" in errors("created_after=1st+of+March")


def test_follow_up_range(db):
    tz = timezone.get_current_timezone()
    soon = LeadFactory(next_follow_up_at=datetime.datetime(2026, 5, 1, 9, 0, tzinfo=tz))
    later = LeadFactory(next_follow_up_at=datetime.datetime(2026, 5, 10, 23, 0, tzinfo=tz))
    LeadFactory()  # none set: outside any range
    assert run("follow_up_after=2026-05-01&ordering=next_follow_up_at") == [soon, later]
    assert run("follow_up_before=2026-05-09") == [soon]
    assert run("follow_up_after=2026-05-02&follow_up_before=2026-05-10") == [later]
    # The last day a date holds has no end to compare with: still only leads with a follow-up.
    assert run("follow_up_before=9999-12-31&ordering=next_follow_up_at") == [soon, later]


@pytest.mark.parametrize(
    "param",
    [
        "created_at",
        "full_name",
        "source",
        "next_follow_up_at",
        "owner__full_name",
        "bootcamp__title",
    ],
)
def test_every_ordering_both_ways(db, people, param):
    a = LeadFactory(
        full_name="A",
        status=Status.CONTACTED,
        source=Lead.Source.ADS,
        owner=people.other,
        bootcamp=BootcampFactory(title="Alpha"),
        next_follow_up_at=timezone.now(),
    )
    b = LeadFactory(
        full_name="B",
        status=Status.NEW,
        source=Lead.Source.WEBSITE,
        owner=people.me,
        bootcamp=BootcampFactory(title="Beta"),
        next_follow_up_at=timezone.now() + datetime.timedelta(days=1),
    )
    assert run(f"ordering={param}")[:2] == [a, b]
    assert run(f"ordering=-{param}")[:2] == [b, a]


def test_statuses_sort_in_the_pipelines_order_not_the_alphabets(db):
    for status in reversed(Status.values):
        LeadFactory(
            status=status,
            lost_reason="No budget" if status == Status.LOST else "",
            legacy_id=uuid.uuid4() if status == Status.CONVERTED else None,  # converted in Node: no links
        )
    pipeline = [Status.NEW, Status.CONTACTED, Status.QUALIFIED, Status.CONVERTED, Status.LOST]
    assert [lead.status for lead in run("ordering=status")] == pipeline
    assert [lead.status for lead in run("ordering=-status")] == pipeline[::-1]


def test_empty_values_sort_last_both_ways(db, people):
    owned = LeadFactory(owner=people.me, next_follow_up_at=timezone.now())
    unowned = LeadFactory()
    assert run("ordering=owner__full_name") == [owned, unowned]
    assert run("ordering=-owner__full_name") == [owned, unowned]
    assert run("ordering=-next_follow_up_at") == [owned, unowned]


def test_ordering_ties_break_by_newest_id(db):
    first, second = LeadFactory(full_name="Same"), LeadFactory(full_name="Same")
    assert run("ordering=full_name") == [second, first]


def test_unknown_ordering_is_an_error(db):
    assert "ordering" in errors("ordering=email")


def test_filters_combine(people):
    hit = LeadFactory(full_name="Ana", owner=people.me, status=Status.CONTACTED, source=Lead.Source.ADS)
    LeadFactory(full_name="Ana B", owner=people.me, status=Status.NEW, source=Lead.Source.ADS)
    LeadFactory(full_name="Ana C", owner=people.other, status=Status.CONTACTED, source=Lead.Source.ADS)
    assert run("search=ana&owner=me&status=CONTACTED&source=ADS", people.me) == [hit]
