"""Finding and creating people, so one person stays one candidate across sources."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Candidate, CandidateAlias, NameToken
from db.names import name_key, name_tokens


@dataclass
class PeopleIndex:
    """Resolves names to candidates within one transaction, caching what it has seen."""

    session: AsyncSession
    _cache: dict[tuple[str, str | None], Candidate] = field(default_factory=dict)
    created: list[Candidate] = field(default_factory=list)

    async def find(self, name: str, state: str | None) -> Candidate | None:
        key = name_key(name)
        cached = self._cache.get((key, state))
        if cached is not None:
            return cached
        query = (
            select(Candidate)
            .join(CandidateAlias, CandidateAlias.candidate_id == Candidate.id)
            .where(CandidateAlias.alias_key == key, Candidate.merged_into_id.is_(None))
        )
        if state:
            query = query.where(Candidate.state == state)
        found = (await self.session.scalars(query.limit(2))).unique().all()
        if len(found) == 1:
            self._cache[(key, state)] = found[0]
            return found[0]
        return None

    async def get_or_create(
        self,
        name: str,
        state: str | None,
        party: str | None = None,
        aliases: tuple[str, ...] | list[str] = (),
        office_held: str | None = None,
        source: str | None = None,
    ) -> Candidate:
        spellings = [name, *aliases]
        person: Candidate | None = None
        for spelling in spellings:
            person = await self.find(spelling, state)
            if person is not None:
                break
        if person is None:
            person = Candidate(
                name=name, name_key=name_key(name), party=party, state=state, office_held=office_held
            )
            self.session.add(person)
            await self.session.flush()
            self.created.append(person)
        elif office_held and not person.office_held:
            person.office_held = office_held
        for spelling in spellings:
            await self.add_alias(person, spelling, source)
        return person

    async def add_alias(self, person: Candidate, spelling: str, source: str | None = None) -> None:
        key = name_key(spelling)
        if not key or self._cache.get((key, person.state)) is person:
            return
        exists = await self.session.scalar(
            select(CandidateAlias.id).where(
                CandidateAlias.candidate_id == person.id, CandidateAlias.alias_key == key
            )
        )
        if exists is None:
            self.session.add(
                CandidateAlias(candidate_id=person.id, alias=spelling, alias_key=key, source=source)
            )
            for token in name_tokens(spelling):
                await self._add_token(person.id, token)
        self._cache[(key, person.state)] = person

    async def _add_token(self, candidate_id: int, token: str) -> None:
        exists = await self.session.scalar(
            select(NameToken.id).where(NameToken.candidate_id == candidate_id, NameToken.token == token)
        )
        if exists is None:
            self.session.add(NameToken(candidate_id=candidate_id, token=token))
            await self.session.flush()
