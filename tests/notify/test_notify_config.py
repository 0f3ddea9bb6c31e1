"""The ``notify:`` section: strict and bounded, secrets from the environment, wired into the
rules' policy; ``sitewatch notify test`` against a local robot and with a bad channel."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from sitewatch.apiconfig import notify_settings
from sitewatch.cli import main
from sitewatch.config import ConfigError, load_site
from tests.notify.receiver import receiver

BASE = """\
cameras:
  - id: cam-1
    url: rtsp://127.0.0.1:8554/cam1
"""


def _site(tmp_path: Path, notify: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(BASE + "notify:\n" + textwrap.indent(textwrap.dedent(notify), "  "),
                    encoding="utf-8")  # fmt: skip
    return path


def test_the_section_reaches_the_rules(tmp_path: Path) -> None:
    site = load_site(_site(tmp_path, """\
        reminders: [1h, 12h]
        offline_after: 5m
        channels:
          - name: robot
            type: dingtalk
            url: https://oapi.dingtalk.com/robot/send?access_token=T
            secret_env: DT_SECRET
            events: [stage, missed]
            quiet_hours: "22:00-07:00"
          - name: mail
            type: email
            host: smtp.example.org
            port: 465
            security: ssl
            sender: sw@example.org
            digest: true
        """))  # fmt: skip
    ns = notify_settings(site, {"DT_SECRET": "SECxyz"})
    robot = ns.channel("robot")
    assert robot.secret == "SECxyz" and robot.quiet == (dt.time(22), dt.time(7))
    policy = ns.policy("https://sw.example", dt.UTC)
    assert policy.offsets == (dt.timedelta(hours=12), dt.timedelta(hours=1))
    assert policy.offline_after == dt.timedelta(minutes=5)
    assert [(r.name, r.events, r.digest) for r in policy.channels] == [
        ("robot", frozenset({"stage", "missed"}), False),
        ("mail", frozenset({"stage", "reject", "soon", "missed", "checkin", "offline"}), True),
    ]
    assert ns.digests == {"mail"}
    from api.settings import SettingsError

    with pytest.raises(SettingsError, match="DT_SECRET is not set"):
        notify_settings(site, {})


@pytest.mark.parametrize(
    ("notify", "why"),
    [
        ("channels:\n  - {name: a, type: wecom}\n", "needs url"),
        ("channels:\n  - {name: a, type: email, host: h}\n", "needs host: and sender:"),
        ("channels:\n  - {name: a, type: webhook, url: 'http://h/x'}\n", "needs secret"),
        ("channels:\n  - {name: a, type: sms, url: 'http://h/x'}\n", "type"),
        ("channels:\n  - {name: a, type: wecom, url: 'http://h/x', quiet_hours: '22-7'}\n",
         "quiet_hours"),
        ("channels:\n  - {name: a, type: wecom, url: 'http://h/x', colour: red}\n", "colour"),
        ("channels:\n  - {name: a, type: wecom, url: 'http://h/x'}\n"
         "  - {name: a, type: wecom, url: 'http://h/y'}\n", "duplicate channel"),
        ("reminders: [10s]\n", "between 1m and 30d"),
        ("offline_after: 1s\n", "offline_after"),
    ],
)  # fmt: skip
def test_bad_sections_are_refused_with_the_reason(tmp_path: Path, notify: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_site(_site(tmp_path, notify))
    assert why in "\n".join(str(p) for p in info.value.problems)


def test_notify_test_prints_the_answer_and_refuses_an_unknown_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with receiver(ok={"errcode": 0, "errmsg": "ok"}) as rec:
        path = _site(tmp_path, f"""\
            channels:
              - name: robot
                type: wecom
                url: {rec.url}/cgi-bin/webhook/send?key=K
                language: en
            """)  # fmt: skip
        assert main(["notify", "test", "--config", str(path), "--channel", "robot"]) == 0
        (req,) = rec.accepted
    out = capsys.readouterr().out
    assert out.strip() == 'robot (wecom): HTTP 200 {"errcode": 0, "errmsg": "ok"}'
    assert req.query == {"key": ["K"]}
    assert "test message: channel robot works" in req.json["markdown"]["content"]
    assert main(["notify", "test", "--config", str(path), "--channel", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no channel 'nope'" in err and "channels: robot" in err
    with receiver(fail=5, refuse_with=(200, {"errcode": 93000, "errmsg": "invalid key"})) as rec:
        path = _site(tmp_path, f"""\
            channels:
              - {{name: robot, type: wecom, url: "{rec.url}/send?key=bad"}}
            """)  # fmt: skip
        assert main(["notify", "test", "--config", str(path), "--channel", "robot"]) == 1
    assert "93000" in capsys.readouterr().err


def test_users_email_sets_shows_and_switches_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.api.test_api_cli import _site as api_site

    cfg = str(api_site(tmp_path))
    assert main(["users", "add", "zhang", "--role", "determiner", "--unit", "南屿镇",
                 "--config", cfg]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["users", "email", "zhang", "--config", cfg]) == 0
    assert capsys.readouterr().out.strip() == "zhang: e-mail off (no address)"
    assert main(["users", "email", "zhang", "--config", cfg, "--address", "z@example.org"]) == 0
    assert capsys.readouterr().out.strip() == "zhang: e-mail on (z@example.org)"
    assert main(["users", "email", "zhang", "--config", cfg, "--off"]) == 0
    assert capsys.readouterr().out.strip() == "zhang: e-mail off (z@example.org)"
    assert main(["users", "email", "zhang", "--config", cfg, "--address", "nope"]) == 2
    assert main(["users", "email", "wang", "--config", cfg]) == 2
    assert "no user 'wang'" in capsys.readouterr().err
