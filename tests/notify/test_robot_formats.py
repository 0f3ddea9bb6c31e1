"""Robot payloads and signatures against fixtures written from the vendors' documentation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, unquote_plus, urlsplit

from api.notify import robots

SECRET = "SEC000000000000000000000000000000000000000000000000000000000000000"
TS_MS = 1_700_000_000_000


def test_dingtalk_sign_is_urlencoded_base64_hmac_of_timestamp_newline_secret() -> None:
    # DingTalk: string_to_sign = timestamp + "\n" + secret; HMAC-SHA256 keyed by the secret;
    # base64; then urlencode (done independently here with hmac and base64)
    expect = base64.b64encode(
        hmac.new(SECRET.encode(), f"{TS_MS}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    sign = robots.dingtalk_sign(SECRET, TS_MS)
    assert unquote_plus(sign) == expect
    assert "+" not in sign and "/" not in sign and "=" not in sign  # encoded
    url = robots.dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=T", SECRET, TS_MS)
    q = parse_qs(urlsplit(url).query)
    assert q["access_token"] == ["T"] and q["timestamp"] == [str(TS_MS)]
    assert q["sign"] == [expect]
    assert robots.dingtalk_url("https://x/robot/send?access_token=T", None, TS_MS).endswith("=T")


def test_payloads_match_the_documented_shapes() -> None:
    assert robots.wecom_payload("**#1**") == {
        "msgtype": "markdown",
        "markdown": {"content": "**#1**"},
    }
    assert robots.wecom_payload("t", markdown=False) == {
        "msgtype": "text",
        "text": {"content": "t"},
    }
    assert robots.dingtalk_payload("案件", "#1") == {
        "msgtype": "markdown",
        "markdown": {"title": "案件", "text": "#1"},
    }
    assert robots.feishu_payload("hi", None, 1) == {"msg_type": "text", "content": {"text": "hi"}}
    body = robots.feishu_payload("hi", "demo", 1_599_360_473)
    key = b"1599360473\ndemo"
    assert body["timestamp"] == "1599360473"
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert robots.robot_ok({"errcode": 0, "errmsg": "ok"})
    assert not robots.robot_ok({"errcode": 310000, "errmsg": "sign not match"})
    assert not robots.robot_ok({"code": 19021, "msg": "sign match fail"})


def test_generic_webhook_signature_verifies() -> None:
    raw, headers = robots.webhook_body({"kind": "stage", "case": 7}, b"k" * 32)
    assert json.loads(raw) == {"case": 7, "kind": "stage"}
    want = "sha256=" + hmac.new(b"k" * 32, raw, hashlib.sha256).hexdigest()
    assert headers[robots.SIGNATURE_HEADER] == want
