"""Pure rendering: data in, discord.Embed or text out. Discord's size limits are enforced here."""
