"""The OpenAPI schema tells the truth: what each operation really answers,
who may call it, and the limits of its parameters."""

import pytest

from cohortly.tests.openapi_checks import assert_documented
from conftest import assert_error

pytestmark = pytest.mark.django_db

#: Lists searched with ?search= (by cohortly.filters.SearchFilter, or for leads by its
#: filterset), and a role that may read them.
SEARCHED_LISTS = [
    ("/api/v1/leads/", "SALES"),
    ("/api/v1/users/", "ADMIN"),
    ("/api/v1/bootcamps/", None),
    ("/api/v1/enrollments/", "ADMIN"),
    ("/api/v1/assignments/", "ADMIN"),
    ("/api/v1/submissions/", "ADMIN"),
]


@pytest.mark.parametrize(("path", "role"), SEARCHED_LISTS, ids=[p for p, _ in SEARCHED_LISTS])
def test_a_refused_search_term_is_a_documented_400_on_search(client_for, path, role):
    client, _ = client_for(role)
    response = client.get(path, {"search": "a\x00b"})
    assert_error(response, 400, code="null_characters_not_allowed", attr="search")
    assert_documented(response)
