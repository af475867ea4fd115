"""Settings read from the environment, and the production checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    dropped = {"DATABASE_URL", "REDIS_URL", "DATABASE_POOL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base["DJANGO_SETTINGS_MODULE"] = "trust.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_deploy_check(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "false",
            "HTTPS": "true",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "trust.example",
            "SQLITE_PATH": str(tmp_path / "deploy.sqlite3"),
        },
    )
    assert result.returncode == 0, result.stderr


def test_invalid_debug_value_named_in_error(tmp_path):
    result = run_manage(
        "check", env={"DEBUG": "maybe", "SQLITE_PATH": str(tmp_path / "bad.sqlite3")}
    )
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_no_environment_uses_sqlite_and_eager_tasks(tmp_path):
    code = (
        "from django.conf import settings;"
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"
    )
    result = run_manage(
        "shell", "-v", "0", "-c", code, env={"SQLITE_PATH": str(tmp_path / "demo.sqlite3")}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_database_url_selects_postgres_pool(tmp_path):
    code = (
        "from django.conf import settings;"
        "d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['OPTIONS'].get('pool'), settings.CELERY_TASK_ALWAYS_EAGER)"
    )
    result = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        env={
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/trust",
            "REDIS_URL": "redis://127.0.0.1:6379/15",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "True", "False"]
