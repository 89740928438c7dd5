"""Settings for the test suite: closeloop's own, on SQLite or the PostgreSQL named by the run."""

import atexit
import os
import shutil
import tempfile

# Each test process has a home of its own: with pytest-xdist, the workers inherit the controller's
# environment, and two workers sharing one home would share the test database file and stored recordings.
if "CLOSELOOP_HOME" not in os.environ or os.environ.get("PYTEST_XDIST_WORKER"):
    _home = tempfile.mkdtemp(prefix="closeloop-test-")
    os.environ["CLOSELOOP_HOME"] = _home
    atexit.register(shutil.rmtree, _home, ignore_errors=True)
for name in ("DATABASE_URL", "EMAIL_URL", "SMS_URL"):
    # The suite configures these per test; a developer's shell must not leak in.
    os.environ.pop(name, None)

from closeloop.environment import parse_database_url  # noqa: E402
from closeloop.settings import *  # noqa: E402,F403
from closeloop.settings import DATABASES  # noqa: E402

if os.environ.get("CLOSELOOP_TEST_DB") == "postgres":
    url = os.environ.get("CLOSELOOP_TEST_POSTGRES")
    if not url:
        raise RuntimeError("CLOSELOOP_TEST_DB=postgres needs CLOSELOOP_TEST_POSTGRES=postgres://...")
    DATABASES["default"] = parse_database_url(url)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # A file, not SQLite's shared-cache memory database: tests that run the worker or a server in a
    # thread then see the same locking (WAL, busy timeout) as production instead of "table is locked".
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(os.environ["CLOSELOOP_HOME"], "test.sqlite3")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
