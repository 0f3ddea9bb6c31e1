"""Group-robot payloads and signatures, as the vendors document them.

- WeCom (企业微信) group robot: POST ``{"msgtype": "markdown", "markdown": {"content": …}}``
  (or ``"text"`` / ``{"content": …}``) to the robot's ``webhook/send?key=…`` URL.
- DingTalk robot: POST ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``;
  with a signing secret, the URL gets ``timestamp`` (ms) and ``sign`` =
  urlencode(base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret))).
- Feishu robot: POST ``{"msg_type": "text", "content": {"text": …}}`` (or ``"post"``, rich
  text: ``{"post": {"zh_cn": {"title": …, "content": [[{"tag": "text", …}, {"tag": "a",
  "text": …, "href": …}]]}}}``); with a signing
  secret, the body gets ``timestamp`` (s) and ``sign`` =
  base64(HMAC-SHA256(key=timestamp + "\\n" + secret, msg=b"")).
- Generic webhook: the JSON body, signed ``X-Sitewatch-Signature: sha256=<hex>`` (HMAC-SHA256
  of the raw body), as the worker's webhooks are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote_plus

SIGNATURE_HEADER = "X-Sitewatch-Signature"


def wecom_payload(text: str, markdown: bool = True) -> dict[str, Any]:
    if markdown:
        return {"msgtype": "markdown", "markdown": {"content": text}}
    return {"msgtype": "text", "text": {"content": text}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query parameter (already URL-encoded)."""
    msg = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), msg, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def dingtalk_url(url: str, secret: str | None, timestamp_ms: int) -> str:
    if not secret:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def dingtalk_payload(title: str, text: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def feishu_payload(text: str, secret: str | None, timestamp_s: int) -> dict[str, Any]:
    body: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
    if secret:
        body["timestamp"] = str(timestamp_s)
        body["sign"] = feishu_sign(secret, timestamp_s)
    return body


def feishu_post(
    title: str, lines: list[tuple[str, str, str]], secret: str | None, timestamp_s: int
) -> dict[str, Any]:
    """A rich-text ``post``: one paragraph per ``(text, link label, link)``."""
    paragraphs = []
    for text, label, href in lines:
        para: list[dict[str, str]] = [{"tag": "text", "text": text}]
        if href:
            para += [{"tag": "text", "text": " "}, {"tag": "a", "text": label, "href": href}]
        paragraphs.append(para)
    body: dict[str, Any] = {
        "msg_type": "post",
        "content": {"post": {"zh_cn": {"title": title, "content": paragraphs}}},
    }
    if secret:
        body["timestamp"] = str(timestamp_s)
        body["sign"] = feishu_sign(secret, timestamp_s)
    return body


def webhook_body(message: dict[str, Any], secret: bytes) -> tuple[bytes, dict[str, str]]:
    """The generic webhook's raw body and its signature header."""
    raw = json.dumps(message, ensure_ascii=False, sort_keys=True, default=str).encode()
    sig = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: sig}


def robot_ok(answer: dict[str, Any]) -> bool:
    """WeCom/DingTalk answer ``errcode: 0``; Feishu ``code: 0`` (older: ``StatusCode: 0``)."""
    for key in ("errcode", "code", "StatusCode"):
        if key in answer:
            return answer[key] == 0
    return True
