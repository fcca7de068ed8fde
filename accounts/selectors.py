import uuid

from django.db.models import F, Q, QuerySet
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.models import User, phone_search_forms, search_match, without_phone_separators


def user_list() -> QuerySet[User]:
    return User.objects.all().order_by("email")


def users_held(pks) -> list[User]:
    """The users' rows, read afresh and locked in id order (FOR NO KEY UPDATE), for
    a write that depends on their role or active flag (a seat, a place on a
    bootcamp's staff, a lead's ownership): a role change or a deactivation
    committed meanwhile is seen by its checks, and one arriving now waits for the
    write, then is refused by accounts.services.user_update (user_role_changing).
    Must run in a transaction; a user deleted meanwhile is simply not there."""
    return list(User.objects.select_for_update(no_key=True).filter(pk__in=set(pks)).order_by("pk"))


def user_of_token(claims: dict) -> User | None:
    """The user a token of ours names (its user id claim), or None: gone, or no
    user id to read."""
    try:
        user_id = uuid.UUID(str(claims.get(jwt_settings.USER_ID_CLAIM)))
    except ValueError:
        return None
    return User.objects.filter(pk=user_id).first()


def users_search(queryset: QuerySet[User], text: str) -> QuerySet[User]:
    """The users of `queryset` that `text` finds, as the README says a search does:
    every word in the name, the email or the phone, a phone number however either
    is spaced and whether written nationally or with its country code (as the
    sales pages find a lead's), and a number spread over several words ("Ada 020
    7946 0958", accounts.models.search_words_and_number). The users API's
    ?search= and the back office's user search."""

    def number(term: str) -> Q:
        found = Q()
        for digits, at_start in phone_search_forms(term):
            found |= Q(digits__startswith=digits) if at_start else Q(digits__contains=digits)
        return found

    def word(term: str) -> Q:
        found = Q(email__icontains=term) | Q(full_name__icontains=term)
        return found | number(term) if phone_search_forms(term) else found

    if not text.split():
        return queryset
    match = search_match(text, word=word, number=number)
    return queryset.alias(digits=without_phone_separators(F("phone"))).filter(match)
