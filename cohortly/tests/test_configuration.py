import json
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


def _run_settings(script: str, env: dict) -> str:
    """What `script` prints in a fresh process that loads the settings with `env`
    as its whole environment (and PATH)."""
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "cohortly.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _settings_in(env: dict) -> dict:
    import json

    script = (
        "import json; from django.conf import settings as s;"
        "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'signing_key': s.SIMPLE_JWT['SIGNING_KEY'],"
        " 'secret_key': s.SECRET_KEY, 'log_format': s.LOG_FORMAT, 'tasks': s.TASKS['default']['BACKEND']}))"
    )
    return json.loads(_run_settings(script, env))


def test_a_variable_set_to_nothing_means_its_default():
    # What a hosting dashboard or a copy of .env.example leaves: every name, no value.
    names = _documented(".env.example") | _documented(".env.production.example")
    loaded = _settings_in({**dict.fromkeys(names, ""), "DEBUG": "true"})
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["secret_key"] and loaded["signing_key"] == loaded["secret_key"]
    assert loaded["log_format"] == "plain"
    assert loaded["tasks"] == "django_tasks.backends.immediate.ImmediateBackend"


def test_a_list_with_a_space_after_each_comma_is_read_as_meant():
    script = (
        "import json; from django.conf import settings as s;"
        "print(json.dumps([s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, s.CORS_ALLOWED_ORIGINS]))"
    )
    origins = "https://cohortly.example.com, https://www.cohortly.example.com"
    printed = _run_settings(
        script,
        {
            "DEBUG": "true",
            "ALLOWED_HOSTS": "cohortly.example.com, www.cohortly.example.com,",
            "CSRF_TRUSTED_ORIGINS": origins,
            "CORS_ALLOWED_ORIGINS": origins,
        },
    )
    hosts, csrf, cors = json.loads(printed)
    assert hosts == ["cohortly.example.com", "www.cohortly.example.com"]
    assert csrf == cors == ["https://cohortly.example.com", "https://www.cohortly.example.com"]


def test_a_copy_of_env_example_runs_as_it_is():
    """.env.example says to copy it to .env: its values, as the settings read them."""
    lines = (BASE_DIR / ".env.example").read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z][A-Z0-9_]+=", line))
    loaded = _settings_in(values)
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["signing_key"] == loaded["secret_key"] != ""


def test_a_variable_left_empty_takes_the_env_files_value(tmp_path):
    """As if it were not set: .env fills it in (a compose file's ${LOG_FORMAT}
    with nothing behind it must not hide the file's json)."""
    env_file = tmp_path / ".env"
    env_file.write_text("LOG_FORMAT=json\nJWT_SIGNING_KEY=\n")
    script = (
        "import environ; read = environ.Env.read_env;"
        f"environ.Env.read_env = classmethod(lambda cls, path=None, **kw: read.__func__(cls, {str(env_file)!r}, **kw));"
        "from django.conf import settings as s; print(s.LOG_FORMAT, s.SIMPLE_JWT['SIGNING_KEY'] == s.SECRET_KEY)"
    )
    printed = _run_settings(script, {"DEBUG": "true", "LOG_FORMAT": ""})
    # The environment's empty name took the file's value; the file's empty one, the default.
    assert printed.split() == ["json", "True"]


def test_site_url_unset_is_the_frontends_address():
    """Before SITE_URL, the sales emails' links used FRONTEND_URL: a deployment
    that serves both from one host and never set SITE_URL keeps working links."""
    script = "from django.conf import settings as s; print(s.SITE_URL)"
    printed = _run_settings(script, {"DEBUG": "true", "FRONTEND_URL": "https://cohortly.example.com/"})
    assert printed.strip() == "https://cohortly.example.com"
