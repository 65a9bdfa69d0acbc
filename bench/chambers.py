"""A chamber's balance after a count: worked out from the shelf, against the store's read, on the shipped store.

    python bench/chambers.py [--samples 20] [--postgres URL]

On election night each count the desk posts changes one race of a chamber and drops the read cache, so each
`senate` or `house` asked after it used to read the chamber again. For each chamber of the shipped store that
has a balance, `samples` times: one of its races changes (dropped from the shelf and read back, a different
race each time), then the balance is asked through the store both ways, in turn: from the shelf
(db/chambers.py: that race's seat worked out again, then the sums) and from the store with the shelf set
aside and the read cache dropped (the read every ask after a count paid before; the baseline). Also the
first balance after start, when every seat of the chamber is worked out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db.bootstrap import prepare
from db.engine import make_engine, make_sessionmaker
from db.models import Office
from db.store import Store
from tests.support.stores import database_at, sqlite_url


@contextlib.asynccontextmanager
async def shipped_store(postgres: str | None) -> AsyncIterator[str]:
    """The shipped store (the sample, then the public files) in a new SQLite file or PostgreSQL database."""
    async with contextlib.AsyncExitStack() as stack:
        if postgres:
            url = await stack.enter_async_context(database_at(postgres, tag="chambers_"))
        else:
            url = sqlite_url(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "store.db")
        engine = make_engine(url)
        try:
            await prepare(engine, make_sessionmaker(engine))  # as the bot's first start builds it
        finally:
            await engine.dispose()
        yield url


async def timed_ms(ask: Awaitable[object]) -> float:
    started = time.perf_counter()
    await ask
    return (time.perf_counter() - started) * 1000


async def measure(store: Store, office: str, cycle: int, samples: int) -> tuple[float, float, float]:
    """The first balance from the shelf, and the p50 of each way after a race of the chamber changed (ms)."""
    shelf = store.shelf
    first = await timed_ms(store.chamber_balance(office, cycle))
    races = sorted(shelf.chambers.races[(office, cycle)])
    from_shelf, read = [], []
    for race_id in (races * samples)[:samples]:
        shelf.drop(frozenset({race_id}))
        await asyncio.wait_for(shelf.idle(), 30)  # the race read back
        from_shelf.append(await timed_ms(store.chamber_balance(office, cycle)))
        shelf.usable = lambda: False
        store.cache.invalidate()
        read.append(await timed_ms(store.chamber_balance(office, cycle)))
        shelf.usable = lambda: True
    return first, statistics.median(from_shelf), statistics.median(read)


async def main(samples: int, postgres: str | None) -> None:
    async with shipped_store(postgres) as url:
        engine = make_engine(url)
        store = Store(make_sessionmaker(engine))
        store.shelf.usable = lambda: True
        try:
            await store.shelf.fill()
            print(f"{'postgresql' if postgres else 'sqlite'}: {len(store.shelf.races):,} races held")
            print(
                f"{'chamber':15} {'races':>5} {'first':>9} {'after a count: shelf':>21} {'read':>9} {'ratio':>7}"
            )
            for office in (Office.SENATE, Office.HOUSE, Office.GOVERNOR):
                cycles = await store.office_cycles(office)
                for cycle in cycles.cycles:
                    held = len(store.shelf.chambers.races.get((office, cycle), ()))
                    if not held:
                        continue
                    first, shelf_ms, read_ms = await measure(store, office, cycle, samples)
                    print(
                        f"{office + ' ' + str(cycle):15} {held:5} {first:7.2f}ms {shelf_ms:19.2f}ms "
                        f"{read_ms:7.2f}ms {shelf_ms / read_ms:6.2f}x"
                    )
        finally:
            await store.close()
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument(
        "--postgres", help="a PostgreSQL URL whose server the benchmark may make a database on"
    )
    args = parser.parse_args()
    asyncio.run(main(args.samples, args.postgres))
