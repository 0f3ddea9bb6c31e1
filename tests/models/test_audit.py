"""The audit chain: every change is recorded; any edit, reordering or deletion is found,
by the function and by ``sitewatch audit verify``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from models.audit import canonical, verify
from models.tables import AuditEntry
from sitewatch.cli import main
from tests.models.conftest import World, detection
from tests.models.test_lifecycle import _ingest, _take


def _busy(w: World) -> None:
    cid = _ingest(w, detection(1)).case_id
    assert cid is not None
    _take(w, cid, "confirm", "operator")
    _take(w, cid, "rule_illegal", "determiner", comment="违建")


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "site.yaml"
    cfg.write_text(
        f"cameras:\n  - id: cam1\n    url: rtsp://127.0.0.1:8554/cam1\ndatabase:\n  url: {url}\n",
        encoding="utf-8",
    )
    return cfg


def test_every_change_is_on_the_chain(world: World) -> None:
    _busy(world)
    with world.session() as s:
        actions = [e.action for e in s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq))]
        result = verify(s)
    assert actions[0] == "site.sync" and actions.count("user.create") == 12
    assert actions[-3:] == ["case.open", "case.confirm", "case.rule_illegal"]
    assert result.ok and result.verified == len(actions)


def _edit_content(engine: Engine) -> None:
    with engine.begin() as c:
        row = c.execute(sa.text("SELECT content FROM audit_log WHERE seq = 3")).scalar_one()
        c.execute(
            sa.text("UPDATE audit_log SET content = :c WHERE seq = 3"),
            {"c": row.replace("operator", "0perator")},
        )


def _edit_column(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(sa.text("UPDATE audit_log SET actor = 'someone' WHERE seq = 3"))


def _rehash_edit(engine: Engine) -> None:
    """Edit an entry and recompute its own hash: the next entry's link still breaks."""
    from models.audit import chain_hash

    with engine.begin() as c:
        prev, content = c.execute(
            sa.text("SELECT prev_hash, content FROM audit_log WHERE seq = 3")
        ).one()
        content = content.replace("operator", "0perator")
        c.execute(
            sa.text("UPDATE audit_log SET content = :c, hash = :h WHERE seq = 3"),
            {"c": content, "h": chain_hash(prev, content)},
        )


def _swap(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(sa.text("UPDATE audit_log SET seq = -1 WHERE seq = 3"))
        c.execute(sa.text("UPDATE audit_log SET seq = 3 WHERE seq = 4"))
        c.execute(sa.text("UPDATE audit_log SET seq = 4 WHERE seq = -1"))


def _delete_middle(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM audit_log WHERE seq = 5"))


def _delete_tail(engine: Engine) -> None:
    with engine.begin() as c:
        last = c.execute(sa.text("SELECT max(seq) FROM audit_log")).scalar_one()
        c.execute(sa.text("DELETE FROM audit_log WHERE seq = :s"), {"s": last})


TAMPERS: dict[str, tuple[Callable[[Engine], None], str]] = {
    "content": (_edit_content, "altered"),
    "column": (_edit_column, "altered"),
    "rehashed": (_rehash_edit, "reordered or replaced"),
    "order": (_swap, "reordered or replaced"),
    "deleted": (_delete_middle, "deleted"),
    "tail": (_delete_tail, "removed from the end"),
}


@pytest.mark.parametrize("how", list(TAMPERS))
def test_tampering_is_found_and_named(
    world: World, how: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _busy(world)
    url = world.engine.url.render_as_string(hide_password=False)
    cfg = _config(tmp_path, url)
    assert main(["audit", "verify", "--config", str(cfg)]) == 0
    assert "entries verified" in capsys.readouterr().out
    tamper, words = TAMPERS[how]
    tamper(world.engine)
    with world.session() as s:
        result = verify(s)
    assert not result.ok and words in result.reason
    assert main(["audit", "verify", "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert f"entry {result.broken_seq} is broken" in err and words in err


def test_canonical_json_is_stable() -> None:
    assert canonical({"b": 1, "a": "旗山村"}) == '{"a":"旗山村","b":1}'


def test_concurrent_appends_and_rollbacks_keep_one_chain(world: World) -> None:
    """Appends from many threads at once (some rolled back) leave one unbroken chain whose
    content is what canonical() makes of each change."""
    import concurrent.futures as cf

    from models import audit

    with world.session() as s:
        before = verify(s).verified

    def one(i: int) -> None:
        with world.session() as s, s.begin():
            audit.record(
                s,
                at=world.clock(),
                actor=f"t{i % 4}",
                action="test.append",
                entity="case",
                entity_id=i,
                after={"i": i, "名": "旗山村"},
            )
            if i % 5 == 0:
                s.rollback()  # its seq must not leave a gap

    with cf.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(60)))
    with world.session() as s:
        result = verify(s)
        last = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert result.ok and result.verified == before + 48, result
    assert last is not None and last.parsed()["after"]["名"] == "旗山村"
    assert canonical(last.parsed()) == last.content  # the seq added as text is canonical
