import django_filters

from accounts.models import User
from cohortly.filters import FilterSet


class UserFilterSet(FilterSet):
    role = django_filters.ChoiceFilter(choices=User.Role.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = User
        fields = ["role", "is_active"]
