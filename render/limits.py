"""Discord's message limits, enforced so no reply can be refused for its size."""

from __future__ import annotations

import discord

TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000  # across every embed of one message
EMBEDS = 10
CONTENT = 2000
ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """Shorten to at most `limit` characters, marking the cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def clip_lines(lines: list[str], limit: int, more: str = "…and {n} more") -> str:
    """Join whole lines up to `limit`, saying how many were left out."""
    kept: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        line = clip(line, limit)
        extra = len(line) + (1 if kept else 0)
        tail = more.format(n=len(lines) - i)
        if size + extra > limit - (len(tail) + 1 if i < len(lines) - 1 else 0):
            kept.append(tail)
            return clip("\n".join(kept), limit)
        kept.append(line)
        size += extra
    return "\n".join(kept)


def embed_size(embed: discord.Embed) -> int:
    return len(embed)


def fit_embed(embed: discord.Embed, budget: int = EMBED_TOTAL) -> discord.Embed:
    """Clip every part to its limit, then drop trailing fields until the embed fits `budget`."""
    if embed.title:
        embed.title = clip(embed.title, TITLE)
    if embed.description:
        embed.description = clip(embed.description, DESCRIPTION)
    if embed.author and embed.author.name:
        embed.set_author(
            name=clip(embed.author.name, AUTHOR), url=embed.author.url, icon_url=embed.author.icon_url
        )
    if embed.footer and embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, FOOTER), icon_url=embed.footer.icon_url)
    fields = embed.fields[:FIELDS]
    embed.clear_fields()
    for field in fields:
        embed.add_field(
            name=clip(field.name or "\u200b", FIELD_NAME),
            value=clip(field.value or "\u200b", FIELD_VALUE),
            inline=bool(field.inline),
        )
    while len(embed) > budget and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > budget and embed.description:
        room = max(1, len(embed.description) - (len(embed) - budget))
        embed.description = clip(embed.description, room)
    return embed


def fit_message(content: str | None, embeds: list[discord.Embed]) -> tuple[str | None, list[discord.Embed]]:
    embeds = embeds[:EMBEDS]
    budget = EMBED_TOTAL
    fitted = []
    for embed in embeds:
        fitted.append(fit_embed(embed, budget=budget))
        budget -= len(fitted[-1])
        if budget <= 0:
            break
    return (clip(content, CONTENT) if content else content), fitted
