"""What cogs share that is not a cog: checks, parsing, paging, replies, the write runner, the chart worker."""
