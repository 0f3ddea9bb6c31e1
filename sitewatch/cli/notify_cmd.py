"""``sitewatch notify test --config FILE --channel NAME``: send a test message on one channel
and print the endpoint's answer (HTTP status and body, or the SMTP reply)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from sitewatch.cli.common import CommandError, CommandFailed, load_site_or_fail

if TYPE_CHECKING:
    from models.tables import Notification
    from sitewatch.config.site import SiteConfig


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("notify", help="try the notification channels of a site YAML")
    inner = parser.add_subparsers(dest="notify_command", metavar="ACTION", required=True)
    test = inner.add_parser(
        "test", help="send a test message on one channel and print the endpoint's answer"
    )
    test.add_argument("--config", required=True, metavar="FILE", help="site YAML")
    test.add_argument("--channel", required=True, metavar="NAME", help="notify.channels[].name")
    test.add_argument(
        "--to", default="", metavar="ADDRESS", help="recipient of an email channel's test"
    )
    test.add_argument("--lang", choices=("zh", "en"), default=None, help="message language")
    test.set_defaults(func=run_test)


def run_test(args: argparse.Namespace) -> int:
    import smtplib

    import httpx

    from api.notify.channels import ChannelError, sender_for
    from api.settings import SettingsError
    from sitewatch.apiconfig import notify_settings

    site = load_site_or_fail(args.config)
    try:
        settings = notify_settings(site)
        ch = settings.channel(args.channel)
    except KeyError as exc:
        raise CommandError(f"{args.config}: {exc.args[0]}") from None
    except SettingsError as exc:
        raise CommandError(f"{args.config}: {exc}") from None
    if ch.kind == "email" and "@" not in args.to:
        raise CommandError(f"channel {ch.name!r} sends e-mail: give --to ADDRESS")
    row = test_message(site, ch.name, args.lang or ch.language, args.to)
    send = sender_for(ch, lambda: dt.datetime.now(dt.UTC))
    try:
        reply = send(row)
    except ChannelError as exc:
        raise CommandFailed(f"channel {ch.name!r} ({ch.kind}) refused the message: {exc}") from None
    except (httpx.HTTPError, smtplib.SMTPException, OSError) as exc:
        raise CommandFailed(
            f"channel {ch.name!r} ({ch.kind}): {type(exc).__name__}: {exc}"
        ) from None
    print(f"{ch.name} ({ch.kind}): {reply}")
    return 0


def test_message(site: SiteConfig, channel: str, lang: str, address: str) -> Notification:
    """A message that is not stored: what the channel's messages look like."""
    from models.notify_text import render
    from models.tables import Notification

    url = (site.api.public_url or f"http://{site.api.host}:{site.api.port}").rstrip("/")
    now = dt.datetime.now(dt.UTC)
    text = render(lang, "test", {"channel": channel}, dt.UTC)
    return Notification(
        event=f"test:{now.isoformat()}", kind="test", channel=channel, user_id=None,
        address=address, case_id=None, urgent=False, language=lang, subject=text[:255],
        body=text, link=url + "/", facts={}, state="sending", attempts=1,
        next_attempt_at=now, created_at=now,
    )  # fmt: skip
