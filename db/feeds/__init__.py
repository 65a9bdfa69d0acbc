"""Election-night results feeds: reading a feed (formats), checking where it may come from (fetch), and
judging a new reading against the last one (validate). Nothing here knows of Discord."""
