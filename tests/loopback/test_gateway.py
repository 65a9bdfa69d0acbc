"""Gateway compression, as discord.py decodes it."""

from __future__ import annotations

import json
import zlib

from loopback.gateway import make_compressor


def test_zlib_stream_is_one_stream_with_a_sync_flush_per_message() -> None:
    compressor = make_compressor("zlib-stream")
    assert compressor is not None
    inflate = zlib.decompressobj()
    for n in range(3):
        frame = compressor.compress(json.dumps({"op": 0, "s": n}).encode())
        assert frame.endswith(b"\x00\x00\xff\xff")  # what discord.py waits for
        assert json.loads(inflate.decompress(frame)) == {"op": 0, "s": n}


def test_no_compression_means_text_frames() -> None:
    assert make_compressor(None) is None
    assert make_compressor("zstd-stream") is None
    assert make_compressor("something-else") is None
