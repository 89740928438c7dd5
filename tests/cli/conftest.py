"""The real SMTP server of the channel tests, for the tests that run closeloop's processes."""

from tests.notify.conftest import smtp_sink

__all__ = ["smtp_sink"]
