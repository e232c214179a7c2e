"""`manage.py create_staff`: create the staff account when no account has its email (idempotent; never promotes)."""
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.services import staff_ensure
from shopkit.auth import ROLE_STAFF
from shopkit.problems import ApplicationError

PASSWORD_ENV = "SHOP_ADMIN_PASSWORD"
EMAIL_ENV = "SHOP_ADMIN_EMAIL"
NAME_ENV = "SHOP_ADMIN_NAME"


class Command(BaseCommand):
    help = ("Create a staff account when no account has that email. An existing account is never changed: not "
            "promoted, re-enabled or given the password. The password comes from --password-file or "
            f"${PASSWORD_ENV} (never the command line: any local user can read that in `ps`). Password "
            "validators do not apply: this is for operators (the launcher seeds admin/admin in dev).")

    def add_arguments(self, parser):
        parser.add_argument("--email", default=os.environ.get(EMAIL_ENV, ""),
                            help=f"default ${EMAIL_ENV}")
        parser.add_argument("--password-file", type=Path,
                            help="a file holding the password (one trailing line break is dropped)")
        parser.add_argument("--password", help=f"deprecated: visible in `ps`; use ${PASSWORD_ENV} or --password-file")
        parser.add_argument("--name", default=os.environ.get(NAME_ENV, ""), help=f"default ${NAME_ENV}")

    def handle(self, *args, email, password_file, password, name, **options):
        if not email:
            raise CommandError(f"give --email or set {EMAIL_ENV}")
        password = self._password(password_file=password_file, argv_password=password)
        try:
            user, created = staff_ensure(email=email, password=password, name=name)
        except ApplicationError as exc:
            details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in (exc.errors or {}).items())
            raise CommandError(f"{exc.detail} {details}".strip()) from None
        if created:
            self.stdout.write(f"created: staff account {user.email} ({user.id})")
        elif user.role == ROLE_STAFF:
            self.stdout.write(f"already present: staff account {user.email} ({user.id})")
        else:
            # Exit 0: the shop still starts, and this is the line the launcher shows. Someone registered the
            # address before the staff account was made; promoting that account would hand them the shop.
            message = (f"NOT staff: {user.email} already has a customer account, which is never promoted; "
                       f"choose another {EMAIL_ENV} (or remove that account deliberately)")
            self.stderr.write(message)
            self.stdout.write(message)

    def _password(self, *, password_file: Path | None, argv_password: str | None) -> str:
        """--password-file, else the deprecated --password, else the environment."""
        if password_file is not None:
            try:
                text = password_file.read_text()
            except OSError as exc:
                raise CommandError(f"cannot read --password-file: {exc.strerror}") from None
            return text.removesuffix("\n").removesuffix("\r")
        if argv_password is not None:
            self.stderr.write(f"--password is deprecated (the password shows in `ps`): set {PASSWORD_ENV} or "
                              f"use --password-file")
            return argv_password
        password = os.environ.get(PASSWORD_ENV, "")
        if not password:
            raise CommandError(f"no password: set {PASSWORD_ENV} or give --password-file")
        return password
