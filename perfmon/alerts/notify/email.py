"""The email channel: a plain-text message over SMTP, with TLS (465) or STARTTLS (587) and a login.

The subject is the notification's title, the body a line per alert, and the Message-ID is made
from the notification's stable id, so a second delivery of the same one is recognisably the same
message. smtplib blocks, so a send runs in a worker thread. A password is only ever sent inside
TLS: the rules file refuses a login without ``tls`` or ``starttls``.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from perfmon.alerts.credentials import located
from perfmon.alerts.notify.message import Notification
from perfmon.alerts.notify.webhook import SendError


class Email:
    """Sends notifications through one SMTP server."""

    def __init__(self, options: Mapping[str, Any], password: str | None, timeout: float) -> None:
        self.host: str = options["host"]
        self.tls, self.starttls = bool(options.get("tls")), bool(options.get("starttls"))
        self.port: int = options.get("port") or (465 if self.tls else 587 if self.starttls else 25)
        self.sender: str = options["from"]
        self.to: tuple[str, ...] = tuple(options["to"])
        self.username: str | None = options.get("username")
        self.password = password
        ca_file = options.get("ca_file")  # its credential under systemd, as every file the rules name
        self.ca_file: str | None = None if ca_file is None else str(located(ca_file))
        self.timeout = timeout

    async def send(self, notification: Notification) -> None:
        """Deliver one; SendError saying why the server did not take it."""
        await asyncio.to_thread(self._send, notification)

    def message(self, notification: Notification) -> EmailMessage:
        """The mail of a notification."""
        mail = EmailMessage()
        mail["Subject"] = notification.title()
        mail["From"], mail["To"] = self.sender, ", ".join(self.to)
        mail["Date"] = formatdate(notification.created)
        mail["Message-ID"] = f"<{notification.id}@perfmon>"
        mail["X-Perfmon-Id"] = notification.id
        mail.set_content(notification.text() + "\n")
        return mail

    def _send(self, notification: Notification) -> None:
        context = ssl.create_default_context(cafile=self.ca_file)
        where = f"{self.host}:{self.port}"
        try:
            with self._connect(context) as smtp:
                if self.starttls:
                    smtp.starttls(context=context)
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(self.message(notification))
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"{where} refused the login of {self.username}: {exc.smtp_code}") from None
        except smtplib.SMTPResponseException as exc:
            said = exc.smtp_error
            said = said.decode(errors="replace") if isinstance(said, bytes) else said
            raise SendError(f"{where} answered {exc.smtp_code} {said}") from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise SendError(f"cannot send through {where}: {type(exc).__name__}: {exc}") from None

    def _connect(self, context: ssl.SSLContext) -> smtplib.SMTP:
        if self.tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)
