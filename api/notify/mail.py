"""The e-mail channel: one message per recipient over SMTP (stdlib ``smtplib``/``email``),
STARTTLS, SSL or plain, with a plain-text and an HTML part; the answer is the server's
reply to the message (``SMTP 250 …``)."""

from __future__ import annotations

import email.policy
import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from api.notify.channels import ChannelError, ChannelSettings, items, plain_text
from models.notify_text import word
from models.tables import Notification


def build_email(ch: ChannelSettings, row: Notification) -> EmailMessage:
    """The message: subject, a text part and an HTML part with the case links."""
    msg = EmailMessage()
    msg["Subject"] = row.subject
    msg["From"] = formataddr(("sitewatch", ch.sender))
    msg["To"] = row.address
    msg["Message-ID"] = make_msgid(domain=ch.sender.rsplit("@", 1)[-1])
    msg.set_content(plain_text(row))
    label = html.escape(word(row.language, "open"))
    paras = []
    for text, link in items(row):
        a = f' <a href="{html.escape(link, quote=True)}">{label}</a>' if link else ""
        paras.append(f"<p>{html.escape(text)}{a}</p>")
    lang = "zh-CN" if row.language == "zh" else "en"
    msg.add_alternative(
        f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><body>'
        f"{''.join(paras)}</body></html>",
        subtype="html",
    )
    return msg


def _connect(ch: ChannelSettings) -> smtplib.SMTP:
    """A connection, TLS from the start (``ssl``) or after STARTTLS; certificates checked."""
    context = ssl.create_default_context(cafile=ch.ca_file or None)
    if ch.security == "ssl":
        return smtplib.SMTP_SSL(ch.host, ch.port, timeout=ch.timeout_s, context=context)
    smtp = smtplib.SMTP(ch.host, ch.port, timeout=ch.timeout_s)
    if ch.security == "starttls":
        smtp.starttls(context=context)
    return smtp


def _ok(step: str, code: int, reply: bytes, accept: tuple[int, ...] = (250,)) -> None:
    if code not in accept:
        raise ChannelError(f"SMTP {step} refused: {code} {reply.decode(errors='replace')}")


def send_email(ch: ChannelSettings, row: Notification) -> str:
    """Send one e-mail to ``row.address``; ``SMTP <code> <reply>`` of the DATA command."""
    if not row.address:
        raise ChannelError("no e-mail address on the message")
    msg = build_email(ch, row)
    with _connect(ch) as smtp:
        if ch.user:
            smtp.login(ch.user, ch.password)
        smtp.ehlo_or_helo_if_needed()
        _ok("MAIL FROM", *smtp.mail(ch.sender))
        _ok("RCPT TO", *smtp.rcpt(row.address), accept=(250, 251))
        code, reply = smtp.data(msg.as_bytes(policy=email.policy.SMTP))  # CRLF lines
        _ok("DATA", code, reply)
    return f"SMTP {code} {reply.decode(errors='replace')}"
