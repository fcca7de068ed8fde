import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
ENV_READ = re.compile(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"')


def _documented(name):
    text = (BASE_DIR / name).read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def test_env_example_lists_every_variable_the_settings_read():
    read = set(ENV_READ.findall((BASE_DIR / "cohortly" / "settings.py").read_text()))
    assert read, "no env() calls found: the pattern is out of date"
    missing = read - _documented(".env.example")
    assert not missing, f"add these to .env.example: {sorted(missing)}"


def test_readme_opens_with_the_two_commands():
    readme = (BASE_DIR / "README.md").read_text()
    head = readme[: readme.index("\n## ", 1) if "\n## " in readme else len(readme)]
    assert "make run" in head and "make test" in head
