"""Django settings: every value comes from closeloop.environment, parsed once."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from closeloop import environment

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
    "closeloop.demo",
    "closeloop.cli",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "closeloop.api.middleware.BodySizeLimitMiddleware",
    "closeloop.api.middleware.InputSafetyMiddleware",
    "closeloop.api.middleware.ApiJsonErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"closeloop": {"handlers": ["console"], "level": os.environ.get("CLOSELOOP_LOG_LEVEL", "INFO")}},
}
