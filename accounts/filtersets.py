import django_filters

from accounts.models import User
from accounts.selectors import users_search
from cohortly.filters import BooleanFilter, OrderingFilter, SearchFilter


class UserFilterSet(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=User.Role.choices)
    is_active = BooleanFilter()

    ordering = OrderingFilter(fields=["email", "full_name", "created_at", "role"], default=["email"])

    class Meta:
        model = User
        fields = ["role", "is_active"]


class UserSearchFilter(SearchFilter):
    """?search=: accounts.selectors.users_search, as the back office's user search."""

    def filter_queryset(self, request, queryset, view):
        terms = self.get_search_terms(request)
        return users_search(queryset, " ".join(terms)) if terms else queryset
