"""The API docs never leave the machine: /api/docs and /api/redoc, opened in
headless Chromium, request nothing but the server itself (no CDN, no web
fonts, no logo, no validator badge), and have a favicon."""

from urllib.parse import urlsplit

import pytest

from cohortly.docs_views import DOCS_CONTENT_SECURITY_POLICY

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DOCS = [
    ("/api/docs", "#swagger-ui .opblock", "swagger"),
    ("/api/redoc", "h1 >> text=Cohortly API", "redoc"),
]


@pytest.mark.parametrize(("path", "rendered", "name"), DOCS, ids=[name for _, _, name in DOCS])
def test_the_docs_load_only_from_the_server_itself(
    chromium, live_server, browser_settings, screenshot, path, rendered, name
):
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    requested, answered, blocked = [], [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("response", lambda response: answered.append(response.url))
    page.on(
        "requestfailed",
        lambda request: blocked.append(request.url) if request.failure == "csp" else None,
    )
    try:
        response = page.goto(f"{live_server.url}{path}", wait_until="networkidle")
        assert response.status == 200
        assert response.headers["content-security-policy"] == DOCS_CONTENT_SECURITY_POLICY
        page.locator(rendered).first.wait_for()
        page.wait_for_load_state("networkidle")
        icon = page.locator("link[rel=icon]").get_attribute("href")
        assert page.request.get(f"{live_server.url}{icon}" if icon.startswith("/") else icon).ok
        screenshot(page, f"docs-{name}")
    finally:
        context.close()
    server = urlsplit(live_server.url).netloc

    def outside(urls):
        return [
            url
            for url in urls
            if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != server
        ]

    assert len(requested) >= 3
    # Nothing from outside was answered: at most, a bundle's own attempt (ReDoc's
    # sidebar logo, hard-coded) was stopped by the policy before it left.
    assert not outside(answered), outside(answered)
    assert outside(requested) == outside(blocked), f"{path} requested from outside: {outside(requested)}"
    assert outside(requested) in ([], ["https://cdn.redoc.ly/redoc/logo-mini.svg"])
