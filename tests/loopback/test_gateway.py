"""Gateway compression, as discord.py decodes it."""

from __future__ import annotations

import json
import zlib

import pytest

from loopback.gateway import make_compressor


def test_zlib_stream_is_one_stream_with_a_sync_flush_per_message() -> None:
    compressor = make_compressor("zlib-stream")
    assert compressor is not None
    inflate = zlib.decompressobj()
    for n in range(3):
        frame = compressor.compress(json.dumps({"op": 0, "s": n}).encode())
        assert frame.endswith(b"\x00\x00\xff\xff")  # what discord.py waits for
        assert json.loads(inflate.decompress(frame)) == {"op": 0, "s": n}


def test_zstd_stream_when_a_zstd_library_is_there() -> None:
    zstandard = pytest.importorskip("zstandard")
    compressor = make_compressor("zstd-stream")
    assert compressor is not None
    decompress = zstandard.ZstdDecompressor().decompressobj()
    for n in range(3):
        frame = compressor.compress(json.dumps({"op": 0, "s": n}).encode())
        assert json.loads(decompress.decompress(frame)) == {"op": 0, "s": n}


def test_no_compression_means_text_frames() -> None:
    assert make_compressor(None) is None
    assert make_compressor("something-else") is None
