import django_filters

from accounts.models import User
from cohortly.filters import BooleanFilter, OrderingFilter


class UserFilterSet(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=User.Role.choices)
    is_active = BooleanFilter()

    ordering = OrderingFilter(fields=["email", "full_name", "created_at", "role"], default=["email"])

    class Meta:
        model = User
        fields = ["role", "is_active"]
