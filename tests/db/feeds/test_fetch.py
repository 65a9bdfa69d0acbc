"""Which feed URLs may be fetched: http(s) only, the operator's hosts only, never this machine's addresses
or the cloud metadata address (checked on what the host resolves to); downloads stop at their limit."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from aiohttp import web

from db.feeds import fetch as fetching
from db.feeds.fetch import CheckedResolver, FetchFailed, UrlRefused, check_url, fetch, session_for
from tests.support.feeds import feed_server


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "http:// or https://"),
        ("ftp://results.example.org/x", "http:// or https://"),
        ("gopher://results.example.org/", "http:// or https://"),
        ("https://user:pw@results.example.org/x", "user name or password"),
        ("https://elsewhere.example.com/x", "not a feed host"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[::ffff:169.254.169.254]/latest/meta-data/", "metadata"),
    ],
)
def test_urls_refused(url: str, why: str) -> None:
    with pytest.raises(UrlRefused, match=why):
        check_url(url, {"results.example.org", "169.254.169.254", "::ffff:169.254.169.254"})


def test_no_host_is_allowed_by_default() -> None:
    with pytest.raises(UrlRefused, match="FEED_HOSTS"):
        check_url("https://results.example.org/x", frozenset())
    assert check_url("https://Results.Example.org/x", {"results.example.org"}) == "results.example.org"


class FakeResolver:
    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(self, host: str, port: int = 0, family: Any = socket.AF_INET) -> list[dict[str, Any]]:
        return [
            {"hostname": host, "host": self.address, "port": port, "family": family, "proto": 0, "flags": 0}
        ]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "192.168.0.4", "169.254.169.254", "::1", "fe80::1"]
)
async def test_a_name_resolving_to_this_machine_or_the_metadata_address_is_refused(address: str) -> None:
    resolver = CheckedResolver({"results.example.org"})
    resolver.inner = FakeResolver(address)  # type: ignore[assignment]
    with pytest.raises(fetching.AddressRefused, match=str(fetching.plain(ipaddress.ip_address(address)))):
        await resolver.resolve("results.example.org", 443)


async def test_a_public_address_passes_and_a_listed_literal_is_trusted() -> None:
    resolver = CheckedResolver({"results.example.org", "127.0.0.1"})
    resolver.inner = FakeResolver("93.184.216.34")  # type: ignore[assignment]
    assert (await resolver.resolve("results.example.org", 443))[0]["host"] == "93.184.216.34"
    resolver.inner = FakeResolver("127.0.0.1")  # type: ignore[assignment]
    assert await resolver.resolve("127.0.0.1", 80)
    resolver.inner = FakeResolver("169.254.169.254")  # type: ignore[assignment]
    with pytest.raises(fetching.AddressRefused):
        await resolver.resolve("127.0.0.1", 80)  # never the metadata address


async def test_download_limit_conditional_get_and_errors() -> None:
    seen: list[dict[str, str]] = []

    async def feed(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.headers))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(body=b"x" * 5000, headers={"ETag": '"v1"'})

    async def broken(_request: web.Request) -> web.Response:
        return web.Response(status=500)

    async def moved(_request: web.Request) -> web.Response:
        raise web.HTTPFound("http://169.254.169.254/")

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(10):
            await response.write(b"y" * 500)
        await response.write_eof()
        return response

    hosts = {"127.0.0.1"}
    routes = {"/feed": feed, "/broken": broken, "/moved": moved, "/stream": stream}
    async with feed_server(routes) as base, session_for(hosts) as session:
        first = await fetch(session, f"{base}/feed", hosts)
        assert (first.status, len(first.body), first.etag) == (200, 5000, '"v1"')
        again = await fetch(session, f"{base}/feed", hosts, etag=first.etag)
        assert again.status == 304 and seen[-1]["If-None-Match"] == '"v1"'
        with pytest.raises(FetchFailed, match="5,000 bytes, more than the 1,000"):
            await fetch(session, f"{base}/feed", hosts, limit=1000)
        with pytest.raises(FetchFailed, match="more than the 1,000 bytes"):  # no length said: counted
            await fetch(session, f"{base}/stream", hosts, limit=1000)
        with pytest.raises(FetchFailed, match="HTTP 500"):
            await fetch(session, f"{base}/broken", hosts)
        with pytest.raises(FetchFailed, match="HTTP 302"):  # redirects are not followed
            await fetch(session, f"{base}/moved", hosts)
        with pytest.raises(UrlRefused):
            await fetch(session, f"{base}/feed", {"results.example.org"})


@pytest.mark.parametrize("host", ["2130706433", "127.1", "0177.0.0.1", "2852039166", "169.254.43518"])
def test_an_address_in_a_legacy_numeric_form_is_refused_even_when_listed(host: str) -> None:
    # The system reads each as an address (127.0.0.1, 169.254.169.254), and aiohttp connects to anything
    # that looks numeric without asking the checking resolver.
    resolved = {info[4][0] for info in socket.getaddrinfo(host, 80, proto=socket.IPPROTO_TCP)}
    assert resolved <= {"127.0.0.1", "169.254.169.254"}  # what each would reach (no traffic: no DNS)
    with pytest.raises(UrlRefused, match="form no feed uses"):
        check_url(f"http://{host}/feed", {host})


async def test_a_listed_name_that_resolves_to_this_machine_is_never_fetched() -> None:
    asked: list[str] = []

    async def feed(request: web.Request) -> web.Response:
        asked.append(request.host)
        return web.Response(body=b"{}")

    async with feed_server({"/feed": feed}) as base:
        port = base.rsplit(":", 1)[1]
        async with session_for({"127.0.0.1"}) as session:
            assert (await fetch(session, f"{base}/feed", {"127.0.0.1"})).status == 200
        for host in ("2130706433", "127.1", "0x7f000001"):  # each is 127.0.0.1 to the system (no DNS)
            async with session_for({host}) as session:
                with pytest.raises(UrlRefused, match=r"this machine|form no feed uses"):
                    await fetch(session, f"http://{host}:{port}/feed", {host})
        assert asked == [f"127.0.0.1:{port}"]  # only the literal the operator listed reached the server


async def test_the_machines_own_addresses_are_refused_public_ones_too() -> None:
    public = "93.184.216.34"  # an address this test treats as the machine's own (nothing is sent to it)
    resolver = CheckedResolver({"results.example.org"}, own={ipaddress.ip_address(public)})
    resolver.inner = FakeResolver(public)  # type: ignore[assignment]
    with pytest.raises(fetching.AddressRefused, match=f"{public}, this machine"):
        await resolver.resolve("results.example.org", 443)
    resolver = CheckedResolver({"results.example.org"}, own=set())
    resolver.inner = FakeResolver(public)  # type: ignore[assignment]
    assert (await resolver.resolve("results.example.org", 443))[0]["host"] == public


async def test_the_own_addresses_are_read_from_the_kernel_tables() -> None:
    own = fetching.own_addresses()
    assert ipaddress.ip_address("127.0.0.1") in own  # the loopback interface's, as the kernel lists it
    assert CheckedResolver({"x"}).own == own  # every resolver refuses them
