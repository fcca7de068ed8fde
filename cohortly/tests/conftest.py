# The browser fixtures (Debian's Chromium through Playwright) live with the
# first browser tests, in leads/tests/conftest.py; the docs' browser test uses them too.
from leads.tests.conftest import browser_settings, chromium, screenshot  # noqa: F401
