"""Cohortly's project package."""

import sys


def _skip_unused_optional_imports() -> None:
    """DRF's compat module imports `requests` and `pygments` whenever they are
    installed: `requests` (installed for django-anymail's HTTP backends) only
    for DRF's RequestsClient test helper, `pygments` (a test tool's dependency)
    only to highlight Markdown docs in the browsable API, neither of which
    Cohortly uses. Together they were some 6 MB of every worker's memory. DRF's
    compat is imported here while both are hidden, so it records them as
    absent; they are importable again right after (anymail imports requests
    when it first sends mail)."""
    hidden = [name for name in ("requests", "pygments") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # makes `import name` raise ImportError
    try:
        import rest_framework.compat  # noqa: F401
    finally:
        for name in hidden:
            del sys.modules[name]


_skip_unused_optional_imports()
