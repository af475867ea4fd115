"""Settings for the test suite: PostgreSQL and Redis on localhost by default.

DATABASE_URL and REDIS_URL may still point elsewhere (a second checkout uses
another database name so two suites can run side by side).
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trust")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DATABASE_POOL", "false")
os.environ.setdefault("TRUST_TEST_HOOKS", "true")

from .settings import *  # noqa: F403

# Fast hashing: the suite creates hundreds of users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests that need a real worker start one; the rest run tasks in-process.
CELERY_TASK_ALWAYS_EAGER = True
