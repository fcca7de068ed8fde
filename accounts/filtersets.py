import django_filters

from accounts.models import User
from accounts.selectors import users_by_phone
from cohortly.filters import BooleanFilter, OrderingFilter, SearchFilter


class UserFilterSet(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=User.Role.choices)
    is_active = BooleanFilter()

    ordering = OrderingFilter(fields=["email", "full_name", "created_at", "role"], default=["email"])

    class Meta:
        model = User
        fields = ["role", "is_active"]


class UserSearchFilter(SearchFilter):
    """?search= over the search fields, each word, or the whole term as a phone
    number however it is written (accounts.selectors.users_by_phone), as the back
    office's user search."""

    def filter_queryset(self, request, queryset, view):
        found = super().filter_queryset(request, queryset, view)
        terms = self.get_search_terms(request)
        by_phone = users_by_phone(queryset, " ".join(terms)) if terms else None
        if by_phone is None:
            return found
        return found | queryset.filter(pk__in=by_phone.values("pk"))
