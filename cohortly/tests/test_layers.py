"""Layers point one way: accounts stands on nothing but cohortly/, and the
domain apps stand on accounts and cohortly/. Read from the source (every
import, also those inside functions), since django.setup() loads every app
anyway and a running process can't tell who imported what."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = ("bootcamps", "enrollments", "assignments", "leads")
#: Not part of the layer: tests, migrations, and management commands.
OUTSIDE = ("tests", "migrations", "management")


def module_file(name: str) -> Path | None:
    path = ROOT.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports_of(path: Path, package: str) -> set[str]:
    """The modules `path` imports (a from-import's names too, which may be modules)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def project_closure(start: list[str]) -> dict[str, str]:
    """Every project module reachable from `start`: {module: who imported it first}."""
    seen = dict.fromkeys(start, "")
    todo = list(start)
    while todo:
        name = todo.pop()
        path = module_file(name)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for imported in imports_of(path, package):
            if imported not in seen and module_file(imported) is not None:
                seen[imported] = name
                todo.append(imported)
    return seen


def chain(seen: dict[str, str], name: str) -> str:
    links = [name]
    while seen.get(links[-1]):
        links.append(seen[links[-1]])
    return " <- ".join(links)


def accounts_modules() -> list[str]:
    modules = []
    for path in sorted((ROOT / "accounts").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if any(part in OUTSIDE for part in parts):
            continue
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_the_closure_finds_what_a_module_imports_inside_a_function():
    # enrollments.apps imports the models it needs inside ready().
    assert "bootcamps.models" in project_closure(["enrollments.apps"])
    assert "enrollments.services" in project_closure(["leads.services"])


def test_accounts_imports_no_domain_app():
    modules = accounts_modules()
    assert {"accounts.services", "accounts.permissions", "accounts.admin", "accounts.api.views"} <= set(
        modules
    )
    seen = project_closure(modules)
    reached = sorted(name for name in seen if name.split(".")[0] in DOMAIN_APPS)
    assert reached == [], "\n".join(chain(seen, name) for name in reached)


def test_bootcamps_services_leave_the_waitlist_to_enrollments():
    """A capacity change reaches the waitlist through bootcamps.signals, which
    enrollments connects to: bootcamps' writes never call enrollments' writes."""
    seen = project_closure(["bootcamps.services"])
    assert "enrollments.services" not in seen, chain(seen, "enrollments.services")
    assert "bootcamps.signals" in seen


def test_mail_stands_on_nothing_but_cohortly():
    """The outbox is infrastructure under every app: accounts' admin shows its
    suppressions, so it may import neither accounts nor a domain app."""
    modules = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in sorted((ROOT / "mail").glob("*.py"))
        if p.name != "__init__.py"
    ]
    seen = project_closure(modules)
    reached = sorted(name for name in seen if name.split(".")[0] in (*DOMAIN_APPS, "accounts"))
    assert reached == [], "\n".join(chain(seen, name) for name in reached)


def test_every_viewset_filters_its_lists_only():
    """A list's filters never hide (or refuse) the one row an action reads by id:
    assignments, submissions and users each had it wrong in turn."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from rest_framework.viewsets import ViewSetMixin

    from cohortly.filters import FiltersListsOnly

    def views(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                yield getattr(pattern.callback, "cls", None)

    viewsets = {
        view for view in views(get_resolver().url_patterns) if view and issubclass(view, ViewSetMixin)
    }
    assert len(viewsets) >= 6
    assert not [view.__name__ for view in viewsets if not issubclass(view, FiltersListsOnly)]
