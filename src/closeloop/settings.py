"""Django settings: every value comes from closeloop.environment, parsed once."""

import os
from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from closeloop import environment
from closeloop.logs import logging_config

try:
    ENV = environment.load(dict(os.environ), Path.cwd())
except environment.BadEnvironment as exc:
    raise ImproperlyConfigured(str(exc)) from None

BASE_DIR = Path(__file__).resolve().parent
CLOSELOOP_HOME = ENV.home
SECRET_KEY = ENV.secret_key
DEBUG = ENV.debug
SITE_URL = ENV.site_url
SMS_URL = ENV.sms_url
EMAIL_SERVER = ENV.email

ALLOWED_HOSTS = ["*"]
CSRF_TRUSTED_ORIGINS = [SITE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_ratelimit",
    # Listed so the API docs page uses Ninja's bundled Swagger UI instead of a CDN.
    "ninja",
    "closeloop.org",
    "closeloop.audit",
    "closeloop.feedback",
    "closeloop.intake",
    "closeloop.alerts",
    "closeloop.notify",
    "closeloop.cases",
    "closeloop.reports",
    "closeloop.loop",
    "closeloop.api",
    "closeloop.web",
    "closeloop.worker",
    "closeloop.demo",
    "closeloop.cli",
]

MIDDLEWARE = [
    # First, so that every log line and every response (a 500 included) carries the request id.
    "closeloop.web.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files keep their long cache, everything else is no-store.
    "closeloop.web.middleware.NoStoreMiddleware",
    "closeloop.api.middleware.BodySizeLimitMiddleware",
    "closeloop.api.middleware.InputSafetyMiddleware",
    "closeloop.api.middleware.ApiJsonErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "axes.middleware.AxesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# --- Browser security ------------------------------------------------------------------------------
# closeloop has no certificate of its own: with an https SITE_URL it runs behind a proxy that ends
# TLS, and SECURE_PROXY_SSL_HEADER (environment) names the header by which that proxy says so.
HTTPS = SITE_URL.startswith("https://")
SECURE_PROXY_SSL_HEADER = ENV.proxy_ssl_header
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0
# Redirecting plain HTTP needs to know which requests came in over TLS: only with the proxy's header.
SECURE_SSL_REDIRECT = HTTPS and SECURE_PROXY_SSL_HEADER is not None
# Probes and scrapers on the host itself speak plain HTTP to the process.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SILENCED_SYSTEM_CHECKS = [
    # HSTS covers this host only: includeSubDomains would force https on every other site of the
    # operator's domain, which closeloop cannot know about; preload is the operator's decision too.
    "security.W005",
    "security.W021",
    # The rate-limit counters live in the database cache, the one cache every closeloop process
    # (web and worker, SQLite or PostgreSQL) shares without another server. Its increments are a
    # read then a write, so two requests at the same instant may both pass: the limits below are
    # coarse brakes on abuse (one reset mail per address per 15 minutes, ten per client address per
    # hour), not counters that must be exact.
    "django_ratelimit.E003",
    "django_ratelimit.W001",
]
if HTTPS and not SECURE_SSL_REDIRECT:
    # Without SECURE_PROXY_SSL_HEADER every request looks like plain HTTP to Django, so redirecting
    # would loop; the proxy redirects http:// itself (docs/operations.md shows how), and HSTS is sent
    # once the header is configured.
    SILENCED_SYSTEM_CHECKS.append("security.W008")

# No inline script anywhere (templates load /static/web/app.js); inline styles are allowed because
# the report charts are SVG with a <style> element inside and a few elements carry style="".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        # Uploaded recordings play from this site; a page showing one hosted elsewhere (on its source's
        # allow-list) adds that origin for itself (web.views.common.page).
        "media-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Accounts: login and password-reset throttling -------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "closeloop.web.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Ten failed logins lock the account, and separately the client address, for 15 minutes after the
# last failure; a successful login clears the count.
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "closeloop.web.views.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "closeloop.web.client_ip.client_ip"
AXES_VERBOSE = False
# Failed attempts are kept (that is the count); a row per successful sign-in (address and browser of
# every login) is not needed for throttling and would only grow.
AXES_DISABLE_ACCESS_LOG = True
TRUSTED_PROXY_COUNT = ENV.trusted_proxy_count

PASSWORD_RESET_PER_EMAIL = "1/15m"
PASSWORD_RESET_PER_ADDRESS = "10/h"
RATELIMIT_USE_CACHE = "ratelimit"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Created by the migration web/0001_rate_limit_cache.
    "ratelimit": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "closeloop_ratelimit"},
}

# --- Operations ------------------------------------------------------------------------------------
# /metrics: a bearer token, else only from this host (see closeloop.web.views.metrics).
METRICS_TOKEN = ENV.metrics_token

ROOT_URLCONF = "closeloop.urls"
WSGI_APPLICATION = "closeloop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": ENV.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = CLOSELOOP_HOME / "static"
# WhiteNoise serves from the apps' folders (below) and warns about a missing STATIC_ROOT.
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = CLOSELOOP_HOME / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Static files are served from the apps' folders directly, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The API limit is enforced by closeloop.api.middleware with a JSON 413; Django's own
# limit only guards form posts.
CLOSELOOP_MAX_BODY_BYTES = 1024 * 1024
CLOSELOOP_MESSAGE_RETENTION = ENV.message_retention
DATA_UPLOAD_MAX_MEMORY_SIZE = CLOSELOOP_MAX_BODY_BYTES
# Interview recordings (POST /api/v1/responses/{id}/audio) may be larger: CLOSELOOP_AUDIO_MAX_BYTES.
CLOSELOOP_AUDIO_MAX_BYTES = ENV.audio_max_bytes

# Temporary delivery failures are retried this long (CLOSELOOP_RETRY_FOR) before a delivery fails.
CLOSELOOP_RETRY_FOR = ENV.retry_for

DEFAULT_FROM_EMAIL = ENV.default_from_email
SERVER_EMAIL = ENV.default_from_email
if EMAIL_SERVER is None:
    # No server configured: messages are kept in the outbox (see closeloop.notify).
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = EMAIL_SERVER.host
    EMAIL_PORT = EMAIL_SERVER.port
    EMAIL_HOST_USER = EMAIL_SERVER.username
    EMAIL_HOST_PASSWORD = EMAIL_SERVER.password
    EMAIL_USE_TLS = EMAIL_SERVER.use_tls
    EMAIL_USE_SSL = EMAIL_SERVER.use_ssl
    EMAIL_TIMEOUT = 10

LOG_FORMAT = ENV.log_format
LOGGING = logging_config(LOG_FORMAT, os.environ.get("CLOSELOOP_LOG_LEVEL", "INFO"))
