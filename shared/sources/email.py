"""Amazon SES (v1 ``SendRawEmail``): one multipart/alternative message (plain text + HTML) per recipient.

Raw rather than SESv2's Simple content because the MIME message is built here, whole, in one place: both parts,
UTF-8 throughout, and the same bytes a test can parse back. One message per recipient, so recipients never see
each other's addresses and SES refusing one address does not stop the others. Errors leave as
``EmailSendError`` classified by SES's error code (never by message text).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from shared.config import Settings
from shared.errors import SourceError
from shared.sources.aws import aws_client

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient

REJECTED_CODES = frozenset(
    {"MessageRejected", "MailFromDomainNotVerified", "MailFromDomainNotVerifiedException", "InvalidParameterValue"}
)
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException"}
)
PAUSED_CODES = frozenset(
    {"AccountSendingPausedException", "ConfigurationSetSendingPausedException", "ConfigurationSetDoesNotExist"}
)
# CRLF line ends; headers unfolded up to RFC 5322's hard limit (folding a long subject right after "Subject:"
# leaves some clients showing a leading space). Body parts longer than that are quoted-printable.
MIME_POLICY = SMTP.clone(max_line_length=998)
SES_MAX_ATTEMPTS = 4  # botocore standard retries; a weekly mail can wait a few seconds
# Bounded, so one send (all attempts) takes far less than the report log's claim lease (15 minutes).
SES_CONNECT_TIMEOUT = 5
SES_READ_TIMEOUT = 20


class EmailSendError(SourceError):
    """SES did not accept a message. ``reason``: ``rejected`` (address, identity, content), ``throttled``,
    ``configuration`` (sending paused, quota), ``unavailable`` (network) or ``error``."""

    def __init__(self, message: str, reason: str = "error", code: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class OutgoingEmail:
    sender: str
    recipient: str
    subject: str
    text: str
    html: str
    headers: tuple[tuple[str, str], ...] = ()  # extra headers, e.g. ("X-Muster-Report-Week", "2026-W49")


def build_mime(email: OutgoingEmail) -> bytes:
    """``multipart/alternative``: the text part first, the HTML part last (the one clients prefer), CRLF lines.
    SES adds the Message-ID."""
    message = EmailMessage(policy=MIME_POLICY)
    message["From"] = email.sender
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    for name, value in email.headers:
        message[name] = value
    message.set_content(email.text, subtype="plain", charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    return message.as_bytes()


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> str:
        """Hand one message to the mail service; return its message id or raise ``EmailSendError``."""
        ...


def _reason(code: str) -> str:
    if code in REJECTED_CODES:
        return "rejected"
    if code in THROTTLING_CODES:
        return "throttled"
    if code in PAUSED_CODES:
        return "configuration"
    return "error"


class SesMailer:
    """SES v1 ``send_raw_email`` on an injectable client."""

    def __init__(self, client: SESClient | Any) -> None:
        self.client = client

    def send(self, email: OutgoingEmail) -> str:
        try:
            response = self.client.send_raw_email(
                Source=email.sender,
                Destinations=[email.recipient],
                RawMessage={"Data": build_mime(email)},
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            raise EmailSendError(f"SES {code}: {error.get('Message', '')}".strip(), _reason(code), code) from exc
        except BotoCoreError as exc:
            raise EmailSendError(f"SES unreachable: {exc}", "unavailable") from exc
        message_id = response.get("MessageId")
        if not message_id:
            raise EmailSendError("SES answered without a MessageId", "error")
        return str(message_id)


def ses_mailer(settings: Settings) -> SesMailer:
    """SES in the deployment's region (``MUSTER_ENDPOINT_URL`` in local mode and tests), standard retries,
    short timeouts."""
    return SesMailer(
        aws_client(
            "ses",
            settings,
            retries={"mode": "standard", "max_attempts": SES_MAX_ATTEMPTS},
            connect_timeout=SES_CONNECT_TIMEOUT,
            read_timeout=SES_READ_TIMEOUT,
        )
    )
