"""Every race the bot suggests is reached by its words: for each race of the default store (the sample and the
public files), the words `race_hint` offers for it find exactly that race (db/lookup.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from db.engine import make_engine, make_sessionmaker
from db.lookup import find_races
from db.models import Race
from render.race import race_hint, race_title
from tests.support import Built, sqlite_url


async def test_each_races_hint_finds_that_race(built: Built, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(built.copy_to(tmp_path / "default.db")))
    try:
        async with make_sessionmaker(engine)() as session:
            races = list(await session.scalars(select(Race).order_by(Race.id)))
            assert len(races) > 50  # the public files' Senate races, 2018 and 2020, and the sample's
            missed = []
            for race in races:
                found = await find_races(session, race_hint(race))
                if found.chosen is None or found.chosen.id != race.id:
                    got = (
                        [race_title(r) for r in found.races]
                        if found.chosen is None
                        else [race_title(found.chosen)]
                    )
                    missed.append(f"{race_title(race)}: {race_hint(race)!r} -> {got}")
    finally:
        await engine.dispose()
    assert not missed, "\n".join(missed)
