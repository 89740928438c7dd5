"""API tokens: only a SHA-256 of the token is stored."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models

SCOPES = ("ingest", "read", "write")
TOKEN_PREFIX = "cl_"


def hash_token(token: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough: no guessing is feasible.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    name = models.CharField(max_length=200)
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="The first characters, to tell tokens apart")
    scopes = models.JSONField(default=list)
    person = models.ForeignKey("org.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="tokens")
    # Unit codes the token is limited to (`token create --units`), each with everything below it: it may
    # submit responses for those units only and reads nothing outside them. Empty: not limited.
    units = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)
