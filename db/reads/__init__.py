"""Reads: plain, fully loaded objects for the member commands, the desk and the renderers."""
