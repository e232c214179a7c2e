"""The tables of identity: users, issued refresh tokens, password-reset tokens, and throttle counters."""
import uuid

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models.functions import Lower

from accounts.constants import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    ROLE_CHOICES,
    THROTTLE_SCOPE_CHOICES,
    THROTTLE_SCOPE_MAX_LENGTH,
)
from shopkit.auth import ROLE_CUSTOMER


class User(models.Model):
    """An account. The email is the login: stored lower-cased, and unique whatever its case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=EMAIL_MAX_LENGTH)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    role = models.CharField(max_length=20, choices=ROLE_CHOICES, default=ROLE_CUSTOMER)
    password = models.CharField(max_length=256)  # a Django password hash (argon2 first), never the password
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_user"
        constraints = [
            # Lower(): a row written around the services (a shell, a data migration) still cannot add a
            # second "Alice@…" next to "alice@…".
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(condition=models.Q(role__in=[r for r, _ in ROLE_CHOICES]),
                                   name="accounts_user_role_known"),
        ]

    def __str__(self):
        return self.email

    def set_password(self, raw_password: str) -> None:
        self.password = make_password(raw_password)

    def check_password(self, raw_password: str) -> bool:
        """True when ``raw_password`` matches; a hash made with older settings is upgraded on the way."""
        def upgrade(raw):
            self.set_password(raw)
            User.objects.filter(pk=self.pk).update(password=self.password)

        return check_password(raw_password, self.password, setter=upgrade)


class RefreshToken(models.Model):
    """A refresh token handed out; each may be exchanged once. Tokens rotated from one sign-in share a family,
    so presenting an already-exchanged token (a stolen copy) revokes the whole family."""

    jti = models.UUIDField(primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    family = models.UUIDField(db_index=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)  # exchanged for a new pair
    # The token it was exchanged for: presented again within the grace window, it answers with that same pair.
    replaced_by = models.UUIDField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_refresh_token"

    def __str__(self):
        return str(self.jti)


class PasswordResetToken(models.Model):
    """A one-time password-reset link handed out. Only the token's SHA-256 is kept: a copy of the table (a
    backup, a replica) must not let anyone reset a password."""

    token_hash = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_reset_tokens")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)  # spent by a reset, or void since another link was

    class Meta:
        db_table = "accounts_password_reset_token"

    def __str__(self):
        return f"reset {self.token_hash[:12]}"


class LoginThrottle(models.Model):
    """Recent failed sign-ins (or reset requests) of one scope's key. A table rather than Django's cache because
    every gunicorn worker must see the same count (LocMem is per process)."""

    # sha256 of scope and value: whatever was typed into the email field (sometimes a password) is not stored.
    key = models.CharField(max_length=64, primary_key=True)
    scope = models.CharField(max_length=THROTTLE_SCOPE_MAX_LENGTH, choices=THROTTLE_SCOPE_CHOICES)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)  # after this the row says nothing and may be deleted

    class Meta:
        db_table = "accounts_login_throttle"

    def __str__(self):
        return f"{self.scope} {self.key[:12]}"
