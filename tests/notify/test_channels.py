"""Each channel's request against a local endpoint, compared with JSON written by hand from
the vendors' documentation; e-mail against a local aiosmtpd server; a channel down then up
delivers everything once."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
import sqlalchemy as sa

from api.notify.channels import ChannelError, ChannelSettings, send_http, sender_for
from api.notify.sender import Backoff, deliver_due
from models import notify
from models.tables import Notification
from tests.models.conftest import World
from tests.notify.receiver import receiver

NOW = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)  # 09:00 in the district
TEXT = "案件 #7 进入「快速认定」：南屿镇/旗山村，期限 2026-12-02 09:00"
LINK = "https://sw.example/cases/7"
SECRET = "SECa1b2c3"


def _row(**kw: Any) -> Notification:
    values: dict[str, Any] = dict(
        event="stage:1", kind="stage", channel="c", user_id=None, address="", case_id=7,
        urgent=False, language="zh", subject=TEXT, body=TEXT, link=LINK,
        facts={"case": 7, "stage": "determine", "unit": "南屿镇/旗山村",
               "deadline": "2026-12-02T01:00:00+00:00"},
        state="sending", attempts=1, next_attempt_at=NOW, created_at=NOW,
    )  # fmt: skip
    values.update(kw)
    return Notification(**values)


def _send(kind: str, **kw: Any) -> tuple[str, Any]:
    with receiver() as rec:
        ch = ChannelSettings(name="c", kind=kind, url=f"{rec.url}/robot/send?access_token=T", **kw)
        answer = send_http(ch, lambda: NOW, _row())
        (req,) = rec.accepted
    return answer, req


def test_wecom_markdown_and_text_match_the_documented_body() -> None:
    answer, req = _send("wecom")
    assert answer == 'HTTP 200 {"errcode": 0, "errmsg": "ok"}'
    assert req.json == {
        "msgtype": "markdown",
        "markdown": {"content": f"{TEXT}\n\n[查看案件]({LINK})"},
    }
    _, req = _send("wecom", markdown=False)
    assert req.json == {"msgtype": "text", "text": {"content": f"{TEXT}\n{LINK}"}}


def test_dingtalk_signed_markdown_has_timestamp_and_sign_in_the_query() -> None:
    _, req = _send("dingtalk", secret=SECRET)
    ts = "1796000400000"  # NOW in milliseconds
    want = base64.b64encode(
        hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert req.query == {"access_token": ["T"], "timestamp": [ts], "sign": [want]}
    assert req.json == {
        "msgtype": "markdown",
        "markdown": {"title": TEXT, "text": f"{TEXT}\n\n[查看案件]({LINK})"},
    }
    _, req = _send("dingtalk")  # no secret: the URL as configured
    assert req.query == {"access_token": ["T"]}


def test_feishu_signed_post_and_text_match_the_documented_body() -> None:
    ts = "1796000400"
    sign = base64.b64encode(
        hmac.new(f"{ts}\n{SECRET}".encode(), b"", hashlib.sha256).digest()
    ).decode()
    _, req = _send("feishu", secret=SECRET, markdown=False)
    assert req.json == {
        "timestamp": ts,
        "sign": sign,
        "msg_type": "text",
        "content": {"text": f"{TEXT}\n{LINK}"},
    }
    _, req = _send("feishu", secret=SECRET)
    assert req.json == {
        "timestamp": ts,
        "sign": sign,
        "msg_type": "post",
        "content": {"post": {"zh_cn": {"title": TEXT, "content": [[
            {"tag": "text", "text": TEXT},
            {"tag": "text", "text": " "},
            {"tag": "a", "text": "查看案件", "href": LINK},
        ]]}}},
    }  # fmt: skip


def test_webhook_body_is_signed_and_carries_the_case() -> None:
    with receiver(ok={"received": True}) as rec:
        ch = ChannelSettings(name="h", kind="webhook", url=f"{rec.url}/hook", secret="k" * 32)
        assert send_http(ch, lambda: NOW, _row()) == 'HTTP 200 {"received": true}'
        (req,) = rec.accepted
    want = "sha256=" + hmac.new(b"k" * 32, req.raw, hashlib.sha256).hexdigest()
    assert req.headers["X-Sitewatch-Signature"] == want
    body = req.json
    assert (body["case"], body["stage"], body["unit"], body["link"]) == (
        7, "determine", "南屿镇/旗山村", LINK)  # fmt: skip
    assert body["deadline"] == "2026-12-02T01:00:00+00:00" and body["text"] == TEXT


def test_a_robot_error_code_is_a_failure_with_the_answer() -> None:
    with receiver(ok={"errcode": 310000, "errmsg": "sign not match"}) as rec:
        ch = ChannelSettings(name="d", kind="dingtalk", url=f"{rec.url}/robot/send")
        with pytest.raises(ChannelError, match="310000"):
            send_http(ch, lambda: NOW, _row())


def _free_port() -> int:
    import socket

    with socket.socket() as probe:  # aiosmtpd's controller cannot listen on port 0
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA), made with openssl."""
    import subprocess

    d = tmp_path_factory.mktemp("tls")
    key, crt = d / "key.pem", d / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(crt), str(key)


@pytest.fixture()
def smtpd() -> Iterator[Any]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Box:
        def __init__(self) -> None:
            self.mails: list[tuple[str, list[str], bytes]] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.mails.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
            return "250 2.0.0 queued as 42"

    def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = data.login == b"sw" and data.password == b"pw"
        return AuthResult(success=ok, handled=False)

    port = _free_port()
    box = Box()
    ctl = Controller(box, hostname="127.0.0.1", port=port, authenticator=auth,
                     auth_require_tls=False)  # fmt: skip
    ctl.start()
    box.port = port  # type: ignore[attr-defined]
    try:
        yield box
    finally:
        ctl.stop()


def test_email_over_smtp_has_a_text_and_an_html_part(smtpd: Any) -> None:
    ch = ChannelSettings(name="mail", kind="email", host="127.0.0.1", port=smtpd.port,
                         security="none", user="sw", password="pw",
                         sender="sitewatch@example.org")  # fmt: skip
    reply = sender_for(ch, lambda: NOW)(_row(address="det@example.org", language="zh"))
    assert reply == "SMTP 250 2.0.0 queued as 42"
    ((frm, to, raw),) = smtpd.mails
    assert frm == "sitewatch@example.org" and to == ["det@example.org"]
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == TEXT and msg["To"] == "det@example.org"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert TEXT in text and LINK in text
    assert f'<a href="{LINK}">查看案件</a>' in html
    bad = ChannelSettings(**{**ch.__dict__, "password": "wrong"})
    with pytest.raises(Exception, match="535"):
        sender_for(bad, lambda: NOW)(_row(address="det@example.org"))


def test_a_robot_down_then_up_delivers_everything_once(world: World) -> None:
    with receiver(fail=3) as rec:
        ch = ChannelSettings(name="robot", kind="dingtalk", url=f"{rec.url}/robot/send",
                             secret=SECRET)  # fmt: skip
        senders = {"robot": sender_for(ch, world.clock)}
        with world.session() as s, s.begin():
            for i in range(4):
                notify.queue_channel(s, event=f"e{i}", kind="stage", channel="robot",
                                     text=f"#{i}", now=world.clock())  # fmt: skip
        backoff = Backoff(first=dt.timedelta(seconds=30))
        assert deliver_due(world.engine, senders, now=world.clock(), backoff=backoff) == (1, 3)
        with world.session() as s:
            errors = list(s.scalars(sa.select(Notification.last_error).order_by(Notification.id)))
        assert [("503" in e) for e in errors] == [True, True, True, False]
        world.clock.advance(seconds=31)
        assert deliver_due(world.engine, senders, now=world.clock(), backoff=backoff) == (3, 0)
        world.clock.advance(hours=3)
        assert deliver_due(world.engine, senders, now=world.clock(), backoff=backoff) == (0, 0)
        texts = Counter(r.json["markdown"]["text"] for r in rec.accepted)
    assert texts == {f"#{i}": 1 for i in range(4)}
    with world.session() as s:
        assert set(s.scalars(sa.select(Notification.state))) == {"sent"}


class _Box:
    def __init__(self) -> None:
        self.mails: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope.content)
        return "250 OK"


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_email_over_starttls_and_ssl_checks_the_certificate(
    cert: tuple[str, str], security: str
) -> None:
    import ssl

    from aiosmtpd.controller import Controller

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*cert)
    box, port = _Box(), _free_port()
    tls = {"tls_context": ctx, "require_starttls": True} if security == "starttls" else {
        "ssl_context": ctx}  # fmt: skip
    ctl = Controller(box, hostname="127.0.0.1", port=port, **tls)
    ctl.start()
    try:
        ch = ChannelSettings(name="mail", kind="email", host="127.0.0.1", port=port,
                             security=security, ca_file=cert[0],
                             sender="sw@example.org")  # fmt: skip
        assert sender_for(ch, lambda: NOW)(_row(address="a@example.org")) == "SMTP 250 OK"
        assert len(box.mails) == 1 and b"a@example.org" in box.mails[0]
        untrusted = ChannelSettings(**{**ch.__dict__, "ca_file": ""})
        with pytest.raises(ssl.SSLCertVerificationError):
            sender_for(untrusted, lambda: NOW)(_row(address="a@example.org"))
    finally:
        ctl.stop()
