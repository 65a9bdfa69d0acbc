"""A real discord.py bot, in this process, against the stand-in."""

from __future__ import annotations

import asyncio
import io
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
from discord import app_commands
from discord.ext import commands

from loopback import Channel, Guild, StandIn
from loopback.floorbot import FLOOR_REPLY, make_floor_bot, run_bot_against
from loopback.spec import UNKNOWN_ROUTE
from tests.support import until as until_true
from tests.support.world import settled


@dataclass
class World:
    s: StandIn
    guild: Guild
    general: Channel
    alice: int
    bob: int


@pytest.fixture
async def world(spec_path: Path) -> AsyncIterator[World]:
    async with StandIn(spec_path) as s:
        guild = s.add_guild("Test Server")
        general = s.add_channel(guild.id, "general")
        desk = s.add_role(guild.id, "desk", permissions=0)
        alice = s.add_member(guild.id, "alice", roles=[desk])
        bob = s.add_member(guild.id, "bob")
        yield World(s, guild, general, alice, bob)


class Seen:
    """What the test bot noticed or ran into."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.dms: list[discord.Message] = []
        self.ready = 0


def make_test_bot(seen: Seen, **options: Any) -> commands.Bot:
    """The floor bot plus a few commands that make it do what the tests look at."""
    bot = make_floor_bot(**options)

    @bot.event
    async def on_ready() -> None:
        seen.ready += 1

    @bot.event
    async def on_message(message: discord.Message) -> None:
        if message.guild is None and message.author.id != bot.user.id:  # type: ignore[union-attr]
            seen.dms.append(message)
        await bot.process_commands(message)

    @bot.event
    async def on_command_error(ctx: commands.Context[commands.Bot], error: commands.CommandError) -> None:
        seen.errors.append(getattr(error, "original", error))

    @bot.command(name="long")
    async def long_title(ctx: commands.Context[commands.Bot]) -> None:
        await ctx.send(embed=discord.Embed(title="x" * 300, description="too long a title"))

    @bot.command(name="file")
    async def file(ctx: commands.Context[commands.Bot]) -> None:
        await ctx.send(
            "results attached", file=discord.File(io.BytesIO(b"state,votes\nAL,12\n"), "results.csv")
        )

    @bot.command(name="dm")
    async def dm(ctx: commands.Context[commands.Bot]) -> None:
        await ctx.author.send("a private word")

    @bot.command(name="card")
    async def card(ctx: commands.Context[commands.Bot]) -> None:
        embed = discord.Embed(title="Alabama", description="Senate, general")
        embed.add_field(name="Reporting", value="87%")
        embed.add_field(name="Leader", value="Smith (R)")
        embed.set_footer(text="racedesk")
        await ctx.send(embed=embed)

    @bot.command(name="vote")
    async def vote(ctx: commands.Context[commands.Bot]) -> None:
        view = discord.ui.View(timeout=30)
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(label="Call it", custom_id="call")

        async def clicked(interaction: discord.Interaction) -> None:
            await interaction.response.edit_message(content=f"called by {interaction.user.name}", view=None)

        button.callback = clicked  # type: ignore[method-assign]
        view.add_item(button)
        await ctx.send("Call the race?", view=view)

    async def states(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        names = ["Alabama", "Alaska", "Arizona", "Arkansas", "California"]
        return [
            app_commands.Choice(name=n, value=n.lower())
            for n in names
            if n.lower().startswith(current.lower())
        ]

    @bot.tree.command(name="poll", description="Latest poll for a state")
    @app_commands.autocomplete(state=states)
    async def poll(interaction: discord.Interaction, state: str, count: int = 1) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"{count} poll(s) for {state}")
        await interaction.edit_original_response(content=f"{count} poll(s) for {state} (edited)")

    return bot


async def test_ready_and_the_world_discord_py_sees(world: World) -> None:
    s = world.s
    seen = Seen()
    async with run_bot_against(s, make_test_bot(seen)) as bot:
        assert seen.ready == 1
        assert bot.user is not None and bot.user.id == s.bot_user_id
        assert bot.application_id == s.bot_user_id
        guild = bot.get_guild(world.guild.id)
        assert guild is not None and guild.name == "Test Server"
        assert [c.name for c in guild.text_channels] == ["general"]
        assert {r.name for r in guild.roles} == {"@everyone", "desk", "RaceDesk"}
        assert guild.member_count == 4  # bot, owner, alice, bob
        assert guild.me is not None
        app = await bot.application_info()
        assert app.owner.id == s.owner_id
        # zlib-stream, or zstd-stream where the zstandard package is installed.
        assert s.gateway_queries[0]["compress"] in ("zlib-stream", "zstd-stream")
        assert s.gateway_queries[0]["v"] == "10" and s.gateway_queries[0]["encoding"] == "json"
        assert s.identify_payload is not None and s.identify_payload["intents"] & (1 << 15)
    assert s.spec_errors == []
    assert s.unknown_routes == []


async def test_prefix_command_is_answered(world: World) -> None:
    s = world.s
    async with run_bot_against(s, make_test_bot(Seen())):
        mid = await s.send_message(world.general.id, world.alice, "!ping")
        reply = await s.wait_for_message(world.general.id, timeout=5)
        assert reply.kind == "message" and reply.content == "pong"
        assert reply.guild_id == world.guild.id and reply.message_id not in (None, mid)
        await s.send_message(world.general.id, world.bob, "!race alabama")
        reply = await s.wait_for_message(world.general.id, timeout=5)
        assert reply.text() == FLOOR_REPLY
    assert [r.method for r in s.requests if "/messages" in r.path] == ["POST", "POST"]
    assert s.spec_errors == []


async def test_slash_command_unsynced_and_synced(world: World) -> None:
    s = world.s
    async with run_bot_against(s, make_test_bot(Seen())) as bot:
        # Never synced: the interaction names the command; discord.py looks it up by name.
        await s.send_slash(world.guild.id, world.general.id, world.alice, "race", {"state": "alabama"})
        reply = await s.wait_for_message(world.general.id, timeout=5)
        assert reply.kind == "interaction_response" and reply.response_type == 4
        assert reply.content == FLOOR_REPLY and reply.interaction_id is not None

        synced = await bot.tree.sync()  # type: ignore[attr-defined]
        assert {c.name for c in synced} == {"race", "poll"}
        ids = {c["name"]: int(c["id"]) for c in s.commands()}
        assert {c.id for c in synced} == set(ids.values())

        await s.send_slash(
            world.guild.id, world.general.id, world.alice, "poll", {"state": "alaska", "count": 2}
        )
        thinking = await s.wait_for_message(world.general.id, timeout=5)
        assert thinking.response_type == 5 and thinking.content is None
        followup = await s.wait_for_message(world.general.id, timeout=5)
        assert followup.kind == "followup" and followup.content == "2 poll(s) for alaska"
        # The first followup after "thinking" fills in that same message, as on Discord.
        assert followup.message_id == thinking.message_id
        edit = await s.wait_for_message(world.general.id, timeout=5)
        assert edit.kind == "edit" and edit.content == "2 poll(s) for alaska (edited)"
        assert edit.message_id == thinking.message_id
    assert s.spec_errors == []


async def test_autocomplete_returns_the_bots_choices(world: World) -> None:
    s = world.s
    async with run_bot_against(s, make_test_bot(Seen())):
        choices = await s.send_autocomplete(
            world.guild.id, world.general.id, world.alice, "poll", {"state": "ala"}, focused="state"
        )
        assert choices == [{"name": "Alabama", "value": "alabama"}, {"name": "Alaska", "value": "alaska"}]
    assert s.spec_errors == []


async def test_button_click_updates_the_message(world: World) -> None:
    s = world.s
    async with run_bot_against(s, make_test_bot(Seen())):
        await s.send_message(world.general.id, world.alice, "!vote")
        prompt = await s.wait_for_message(world.general.id, timeout=5)
        assert prompt.button_ids() == ["call"]
        await s.click_button(prompt, "call", world.bob)
        update = await s.wait_for_message(world.general.id, timeout=5)
        assert update.kind == "interaction_response" and update.response_type == 7
        assert update.message_id == prompt.message_id
        assert update.content == "called by bob" and update.components == []
    assert s.spec_errors == []


async def test_a_500_is_retried_and_recorded_once(world: World) -> None:
    s = world.s
    async with run_bot_against(s, make_test_bot(Seen())):
        s.fail_next("POST", r"/channels/\d+/messages", status=500)
        await s.send_message(world.general.id, world.alice, "!ping")
        reply = await s.wait_for_message(world.general.id, timeout=8)  # discord.py waits 1 s first
        assert reply.content == "pong"
        await settled(s)  # the command has finished: nothing more will be sent
    posts = [r for r in s.requests if r.method == "POST" and r.path.endswith("/messages")]
    assert len(posts) == 2
    assert [m.content for m in s.messages] == ["pong"]


async def test_a_429_is_honoured(world: World) -> None:
    s = world.s
    async with run_bot_against(s, make_test_bot(Seen())):
        s.fail_next("POST", r"/channels/\d+/messages", status=429, retry_after=0.3)
        start = time.monotonic()
        await s.send_message(world.general.id, world.alice, "!ping")
        reply = await s.wait_for_message(world.general.id, timeout=5)
        waited = time.monotonic() - start
        assert reply.content == "pong"
        assert waited >= 0.3
    posts = [r for r in s.requests if r.method == "POST" and r.path.endswith("/messages")]
    assert len(posts) == 2 and len(s.messages) == 1


async def test_an_embed_title_over_256_is_refused_like_discord(world: World) -> None:
    s = world.s
    seen = Seen()
    async with run_bot_against(s, make_test_bot(seen)):
        await s.send_message(world.general.id, world.alice, "!long")
        await until_true(lambda: bool(seen.errors))
    assert len(s.spec_errors) == 1
    err = s.spec_errors[0]
    assert err.method == "POST" and err.operation == "create_message"
    assert "embeds.0.title" in err.message and "256" in err.message
    assert isinstance(seen.errors[0], discord.HTTPException)
    assert seen.errors[0].status == 400 and seen.errors[0].code == 50035
    assert "embeds.0.title" in str(seen.errors[0])
    assert s.messages == []


async def test_dm_and_closed_dms(world: World) -> None:
    s = world.s
    seen = Seen()
    async with run_bot_against(s, make_test_bot(seen)):
        await s.send_message(world.general.id, world.alice, "!dm")
        dm = await s.wait_for_message(timeout=5)
        assert dm.content == "a private word" and dm.guild_id is None
        assert dm.channel_id == s.dm_channel_id(world.alice)
        assert any(r.path == "/users/@me/channels" for r in s.requests)

        s.dm_closed(world.bob)
        await s.send_message(world.general.id, world.bob, "!dm")
        await until_true(lambda: bool(seen.errors))
        assert isinstance(seen.errors[0], discord.Forbidden)
        assert seen.errors[0].code == 50007

        await s.send_dm(world.alice, "hello bot")
        await until_true(lambda: bool(seen.dms))
        assert seen.dms[0].content == "hello bot" and isinstance(seen.dms[0].channel, discord.DMChannel)
    assert s.spec_errors == []


async def test_multipart_attachment_is_recorded(world: World) -> None:
    s = world.s
    async with run_bot_against(s, make_test_bot(Seen())):
        await s.send_message(world.general.id, world.alice, "!file")
        rec = await s.wait_for_message(world.general.id, timeout=5)
        assert rec.content == "results attached"
        assert rec.attachments == [("results.csv", b"state,votes\nAL,12\n")]
        attachment = s.message_json(rec.message_id or 0)["attachments"][0]
        async with aiohttp.ClientSession() as http, http.get(attachment["url"]) as resp:
            assert await resp.read() == b"state,votes\nAL,12\n"
    assert s.spec_errors == []


async def test_text_flattens_embeds(world: World) -> None:
    s = world.s
    async with run_bot_against(s, make_test_bot(Seen())):
        await s.send_message(world.general.id, world.alice, "!card")
        rec = await s.wait_for_message(world.general.id, timeout=5)
    assert rec.text() == "Alabama\nSenate, general\nReporting: 87%\nLeader: Smith (R)\nracedesk"


async def test_resume_after_reconnect(world: World) -> None:
    s = world.s
    async with run_bot_against(s, make_test_bot(Seen())):
        await s.force_reconnect()
        assert s.resume_count == 1 and s.identify_count == 1
        await s.send_message(world.general.id, world.alice, "!ping")
        assert (await s.wait_for_message(world.general.id, timeout=5)).content == "pong"


async def test_without_message_content_intent_prefix_commands_go_deaf(world: World) -> None:
    s = world.s
    intents = discord.Intents.default()  # no message_content
    bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.1)

    @bot.command()
    async def ping(ctx: commands.Context[commands.Bot]) -> None:
        await ctx.send("pong")

    async with run_bot_against(s, bot):
        await s.send_message(world.general.id, world.alice, "!ping")
        with pytest.raises(TimeoutError):
            await s.wait_for_message(world.general.id, timeout=0.3)


async def test_members_intent_chunks_members(world: World) -> None:
    s = world.s
    bot = make_floor_bot(intents=discord.Intents.all())
    async with run_bot_against(s, bot):
        guild = bot.get_guild(world.guild.id)
        assert guild is not None and guild.chunked
        alice = guild.get_member(world.alice)
        assert alice is not None and [r.name for r in alice.roles[1:]] == ["desk"]
        s.add_member(world.guild.id, "carol")
        await until_true(lambda: guild.get_member_named("carol") is not None)
        assert guild.member_count == 5


async def test_unknown_route_is_a_404_and_recorded(world: World) -> None:
    s = world.s
    async with run_bot_against(s, make_test_bot(Seen())) as bot:
        with pytest.raises(discord.NotFound):
            await bot.http.request(discord.http.Route("GET", "/no/such/thing"))
    assert [(r.method, r.path) for r in s.unknown_routes] == [("GET", "/no/such/thing")]
    # An unknown route fails the test that provoked it: it is a spec error.
    assert [(e.method, e.path, e.operation) for e in s.spec_errors] == [
        ("GET", "/no/such/thing", UNKNOWN_ROUTE)
    ]


async def test_a_route_only_the_standin_lacks_is_a_spec_error_too(world: World) -> None:
    s = world.s
    async with run_bot_against(s, make_test_bot(Seen())) as bot:
        with pytest.raises(discord.NotFound):  # Discord has it (a guild's audit log); the stand-in does not
            await bot.http.request(discord.http.Route("GET", f"/guilds/{world.guild.id}/audit-logs"))
    assert [e.operation for e in s.spec_errors] == [UNKNOWN_ROUTE]
    assert "no handler" in s.spec_errors[0].message


async def test_requests_answered_by_an_injected_failure_are_checked_too(world: World) -> None:
    s = world.s
    seen = Seen()
    async with run_bot_against(s, make_test_bot(seen)):
        s.fail_next("POST", r"/channels/\d+/messages", status=503, times=5)
        await s.send_message(world.general.id, world.alice, "!long")  # an embed title over 256
        await until_true(lambda: bool(seen.errors))
    # Discord refuses the body before anything else: the failure the test arranged is not what answers.
    assert [(e.operation, "embeds.0.title" in e.message) for e in s.spec_errors] == [("create_message", True)]
    assert isinstance(seen.errors[0], discord.HTTPException) and seen.errors[0].code == 50035
    posts = [r for r in s.requests if r.method == "POST" and r.path.endswith("/messages")]
    assert len(posts) == 1


async def test_clean_shutdown_and_addresses_restored(spec_path: Path) -> None:
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    async with StandIn(spec_path) as s:
        s.add_guild()
        port = s.port
        bot = make_test_bot(Seen())
        async with run_bot_against(s, bot):
            assert s.api_base == discord.http.Route.BASE
            assert s.connected
        assert bot.is_closed()
        assert base == discord.http.Route.BASE
        assert gateway == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


async def test_standin_closes_with_a_bot_still_connected(spec_path: Path) -> None:
    async with StandIn(spec_path) as s:
        s.add_guild()
        bot = make_test_bot(Seen())
        async with run_bot_against(s, bot):
            handlers = set(s._gateway_handlers)
            assert handlers
            await s.close()
            # Closed for good: every websocket handler has finished, none is left for shutdown to wait on.
            assert all(task.done() for task in handlers)
            assert not s.connected


class Ask(discord.ui.Modal, title="Call the race"):
    winner: discord.ui.TextInput[Ask] = discord.ui.TextInput(label="Winner", custom_id="winner")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"winner: {self.winner.value}", ephemeral=True)


async def test_modal_and_select_menu(world: World) -> None:
    s = world.s
    bot = make_floor_bot()

    @bot.tree.command(name="call", description="Call a race")
    async def call(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Ask(custom_id="ask"))

    @bot.command()
    async def pick(ctx: commands.Context[commands.Bot]) -> None:
        view = discord.ui.View()
        select: discord.ui.Select[discord.ui.View] = discord.ui.Select(
            custom_id="state",
            options=[discord.SelectOption(label="Alabama"), discord.SelectOption(label="Alaska")],
        )

        async def picked(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"picked {', '.join(select.values)}")

        select.callback = picked  # type: ignore[method-assign]
        view.add_item(select)
        await ctx.send("Which state?", view=view)

    async with run_bot_against(s, bot):
        await s.send_slash(world.guild.id, world.general.id, world.alice, "call", {})
        await until_true(lambda: bool(s.callbacks))
        assert s.callbacks[-1]["type"] == 9 and s.callbacks[-1]["data"]["custom_id"] == "ask"
        await s.submit_modal(world.guild.id, world.general.id, world.alice, "ask", {"winner": "Smith"})
        answer = await s.wait_for_message(world.general.id, timeout=5)
        assert answer.content == "winner: Smith" and answer.ephemeral

        await s.send_message(world.general.id, world.alice, "!pick")
        menu = await s.wait_for_message(world.general.id, timeout=5)
        await s.select_menu(menu, "state", ["Alaska"], world.bob)
        assert (await s.wait_for_message(world.general.id, timeout=5)).content == "picked Alaska"
    assert s.spec_errors == []


async def test_an_interaction_answered_too_late_is_unknown(spec_path: Path) -> None:
    errors: list[BaseException] = []
    async with StandIn(spec_path, interaction_deadline=0.1) as s:
        guild = s.add_guild()
        general = s.add_channel(guild.id)
        alice = s.add_member(guild.id, "alice")
        bot = make_floor_bot()

        @bot.tree.command(name="slow", description="Too slow")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.2)  # the bot is slow on purpose: past the 0.1 s deadline
            try:
                await interaction.response.send_message("late")
            except discord.HTTPException as exc:
                errors.append(exc)

        async with run_bot_against(s, bot):
            await s.send_slash(guild.id, general.id, alice, "slow", {})
            await until_true(lambda: bool(errors))
    assert isinstance(errors[0], discord.NotFound) and errors[0].code == 10062
    assert s.messages == []


async def test_plain_text_frames_when_compression_is_off(spec_path: Path) -> None:
    async with StandIn(spec_path, compress=False) as s:
        guild = s.add_guild()
        general = s.add_channel(guild.id)
        alice = s.add_member(guild.id, "alice")
        async with run_bot_against(s, make_floor_bot()):
            await s.send_message(general.id, alice, "!ping")
            assert (await s.wait_for_message(general.id, timeout=5)).content == "pong"
