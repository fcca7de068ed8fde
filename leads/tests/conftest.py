"""Browser fixtures: Playwright for Python driving Debian's Chromium.

Never downloads a browser: it launches /usr/bin/chromium (the `chromium`
package; `.ci/run` installs it with apt-get) and skips the browser tests with
a clear reason when that binary or the playwright package is missing.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _skip_reason() -> str | None:
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="module")
def chromium():
    """One browser per test module (its event loop must not outlive the module)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # (fixtures, assertions) refuses to run beside one unless told it's fine.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_settings(settings):
    # The live server speaks plain HTTP: cookies must not be Secure-only.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False
    return settings


@pytest.fixture
def browser_page(chromium, live_server, browser_settings):
    """A fresh page at laptop size; `page.base_url` is the live server."""
    context = chromium.new_context(viewport=LAPTOP, timezone_id="Europe/Paris", locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """screenshot(page, name): a full-page PNG in test-artifacts/ (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def _take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _take
