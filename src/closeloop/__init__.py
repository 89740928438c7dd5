"""closeloop: closed-loop customer feedback and service recovery."""

__version__ = "0.1.0"
