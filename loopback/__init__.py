"""A loopback stand-in for Discord's REST API and gateway, for a real discord.py bot on 127.0.0.1.

async with StandIn(spec_path) as s:
    guild = s.add_guild("Test Server")
    general = s.add_channel(guild.id, "general")
    alice = s.add_member(guild.id, "alice")
    ...  # point the bot at s.api_base / s.gateway_url and start it
    await s.wait_until_ready()
    await s.send_message(general.id, alice, "!race alabama")
    reply = await s.wait_for_message(general.id)
"""

from .models import Channel, Guild, Member, Permission, RecordedMessage, RecordedRequest, Role, User
from .spec import SpecError
from .standin import FailRule, StandIn

__all__ = [
    "Channel",
    "FailRule",
    "Guild",
    "Member",
    "Permission",
    "RecordedMessage",
    "RecordedRequest",
    "Role",
    "SpecError",
    "StandIn",
    "User",
]
