"""Read the local outbox the way a mail client would: parsed MIME messages."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path


@dataclass
class SentMail:
    path: Path
    message: EmailMessage

    @property
    def to(self) -> list[str]:
        return [a.strip() for a in str(self.message["To"]).split(",")]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def kind(self) -> str:
        return str(self.message["X-Lutea-Kind"])

    def body(self, subtype: str = "plain") -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        return self.body("html")

    @property
    def text(self) -> str:
        return self.body("plain")

    def attachments(self) -> list[tuple[str, str, bytes]]:
        return [(p.get_filename(), p.get_content_type(), p.get_content()) for p in self.message.iter_attachments()]


def read_outbox(directory: Path) -> list[SentMail]:
    if not directory.exists():
        return []
    mails = []
    for path in sorted(directory.glob("*.eml")):
        mails.append(SentMail(path, email.message_from_bytes(path.read_bytes(), policy=email.policy.default)))
    return mails


def mails_to(directory: Path, address: str, kind: str | None = None) -> list[SentMail]:
    return [
        m for m in read_outbox(directory) if address.lower() in [t.lower() for t in m.to] and (kind is None or m.kind == kind)
    ]
