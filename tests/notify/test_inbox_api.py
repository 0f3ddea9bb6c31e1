"""The inbox over HTTP: the scheduler queues, the user lists, reads, and the count drops."""

from __future__ import annotations

from api.routes.inbox import unread_for
from api.scheduler import scan_once
from tests.api.conftest import Api, api, new_case

__all__ = ["api"]


def test_scheduler_fills_the_inbox_and_reading_clears_the_count(api: Api) -> None:
    cid = new_case(api)
    scan_once(api.services)
    scan_once(api.services)  # twice: still one message
    r = api.client.get("/api/v1/inbox", headers=api.auth("operator"))
    assert r.status_code == 200
    body = r.json()
    assert body["unread"] == 1 and len(body["items"]) == 1
    item = body["items"][0]
    assert item["case_id"] == cid and item["link"] == f"http://testserver/cases/{cid}"
    other = api.client.get("/api/v1/inbox", headers=api.auth("operator2")).json()
    assert other == {"unread": 0, "items": []}
    assert api.client.post(f"/api/v1/inbox/{item['id']}/read",
                           headers=api.auth("operator2")).status_code == 404  # fmt: skip
    r = api.client.post(f"/api/v1/inbox/{item['id']}/read", headers=api.auth("operator"))
    assert r.status_code == 200 and r.json()["unread"] == 0
    uid = api.client.get("/api/v1/me", headers=api.auth("operator")).json()["id"]
    assert unread_for(api.services, uid) == 0


def test_failed_messages_show_on_the_admin_route(api: Api) -> None:
    from api.notify.sender import Backoff, deliver_due
    from models import notify

    with api.services.session() as s, s.begin():
        notify.queue_channel(s, event="e1", kind="stage", channel="gone", text="#1",
                             now=api.clock())  # fmt: skip
    deliver_due(api.services.engine, {}, now=api.clock(), backoff=Backoff(max_attempts=1))
    rows = api.client.get("/api/v1/notifications/failed", headers=api.auth("admin")).json()
    assert [(r["channel"], r["attempts"]) for r in rows] == [("gone", 1)]
    assert "no channel 'gone'" in rows[0]["error"]
    r = api.client.get("/api/v1/notifications/failed", headers=api.auth("operator"))
    assert r.status_code == 403


def test_each_user_sets_their_own_email_address(api: Api) -> None:
    from models import notify

    h = api.auth("determiner")
    r = api.client.put("/api/v1/me/notify", json={"email": "det@example.org"}, headers=h)
    assert r.status_code == 200 and r.json() == {"email": "det@example.org", "email_enabled": True}
    r = api.client.put("/api/v1/me/notify", json={"email": "not an address"}, headers=h)
    assert r.status_code == 422
    off = {"email": "det@example.org", "email_enabled": False}
    assert api.client.put("/api/v1/me/notify", json=off, headers=h).json() == off
    uid = api.client.get("/api/v1/me", headers=h).json()["id"]
    other = api.client.get("/api/v1/me", headers=api.auth("operator")).json()["id"]
    with api.services.session() as s:
        assert notify.prefs_of(s, uid) == off
        assert notify.prefs_of(s, other) == {"email": None, "email_enabled": False}


def test_the_scheduler_sends_channel_messages_from_the_site_settings(api: Api) -> None:
    import dataclasses
    import hashlib
    import hmac

    from api.notify.channels import ChannelSettings, NotifySettings
    from tests.notify.receiver import receiver

    with receiver(ok={"ok": True}) as rec:
        hook = ChannelSettings(name="hook", kind="webhook", url=f"{rec.url}/hook",
                               secret="k" * 32, events=frozenset({"stage"}))  # fmt: skip
        api.services.settings = dataclasses.replace(
            api.services.settings, notify=NotifySettings(channels=(hook,))
        )
        cid = new_case(api)
        scan_once(api.services)
        scan_once(api.services)  # again: nothing sent twice
        (req,) = rec.accepted
    body = req.json
    assert (body["case"], body["kind"], body["stage"]) == (cid, "stage", "report")
    assert body["link"] == f"http://testserver/cases/{cid}"
    sig = "sha256=" + hmac.new(b"k" * 32, req.raw, hashlib.sha256).hexdigest()
    assert req.headers["X-Sitewatch-Signature"] == sig
