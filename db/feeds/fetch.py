"""Fetching a feed: which URLs may be fetched at all, and a download that stops at a size limit.

A feed's URL is untrusted. It must be http(s); its host must be one the operator allows (`FEED_HOSTS`,
empty by default: no feed until the operator says where from); and every address the host resolves to
must be a public one: never the bot's own machine (loopback, link-local, private networks) nor the cloud
metadata address 169.254.169.254. The check runs at every fetch, and the connection goes to the address
that was checked, so a name that later resolves elsewhere cannot slip through.
A host the operator lists as an IP literal or `localhost` is trusted as written (tests and local mirrors);
any name is checked on what it resolves to, and an address written in a legacy numeric form (`2130706433`,
`127.1`), which would reach the network without that check, is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import socket
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

MAX_DOWNLOAD = 20 * 1024 * 1024
METADATA = ipaddress.ip_address("169.254.169.254")
SCHEMES = ("http", "https")


class UrlRefused(ValueError):
    """A URL that no feed may use, with why."""


class AddressRefused(OSError):
    """A host that resolves where no feed may be fetched from (an OSError, as aiohttp expects of a resolver)."""


def host_of(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in SCHEMES:
        raise UrlRefused(f"A feed's URL must start with http:// or https://, not `{parts.scheme or url}`.")
    if not parts.hostname:
        raise UrlRefused("That URL names no host, e.g. `https://results.enr.clarityelections.com/...`.")
    if parts.username or parts.password:
        raise UrlRefused("A feed's URL may not carry a user name or password.")
    return parts.hostname.lower()


def check_url(url: str, allowed_hosts: Collection[str]) -> str:
    """The URL's host, once the scheme and the operator's list allow it (no lookup yet)."""
    host = host_of(url)
    literal = _literal(host.strip("[]"))
    if literal is not None and literal == METADATA:
        raise UrlRefused("No feed may be fetched from the cloud metadata address.")
    if literal is None and _looks_numeric(host):
        # `2130706433`, `127.1`, `0177.0.0.1`: the system reads them as addresses (127.0.0.1), and aiohttp
        # connects to what looks like an address without asking the resolver that checks it.
        raise UrlRefused(
            f"`{host}` is an address written in a form no feed uses: write it as four numbers, e.g. `203.0.113.7`."
        )
    if not allowed_hosts:
        raise UrlRefused(
            "No feed host is allowed yet: the operator lists the hosts feeds may come from in FEED_HOSTS."
        )
    if host not in allowed_hosts:
        raise UrlRefused(
            f"`{host}` is not a feed host the operator allows (FEED_HOSTS: {', '.join(sorted(allowed_hosts))})."
        )
    return host


def _looks_numeric(host: str) -> bool:
    """A host aiohttp takes for an IP address (digits and dots, or a colon): it skips the resolver for it."""
    return ":" in host or host.replace(".", "").isdigit()


def plain(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An IPv4 address written as IPv6 (::ffff:169.254.169.254) as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return plain(ipaddress.ip_address(host))
    except ValueError:
        return None


def own_addresses() -> frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses of this machine's own network interfaces, public ones too, read from the kernel's tables
    (Linux: /proc/net; elsewhere none are known, and loopback and private addresses are refused anyway).
    Read once per resolver: no lookup, no traffic."""
    found: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    with contextlib.suppress(OSError):
        lines = Path("/proc/net/fib_trie").read_text().splitlines()
        for above, line in itertools.pairwise(lines):  # "|-- 192.0.2.2" then "/32 host LOCAL"
            if line.strip().endswith("host LOCAL") and "|--" in above:
                with contextlib.suppress(ValueError):
                    found.add(ipaddress.ip_address(above.split("|--")[1].strip()))
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            with contextlib.suppress(ValueError, IndexError):
                found.add(ipaddress.IPv6Address(int(line.split()[0], 16)))
    return frozenset(found)


def address_refused(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    own: Collection[ipaddress.IPv4Address | ipaddress.IPv6Address] = (),
) -> str | None:
    """Why a resolved address is not a feed's, or None for a public one that is not this machine's own."""
    if address == METADATA:
        return "the cloud metadata address"
    if address.is_loopback or address.is_unspecified or address in own:
        return "this machine"
    if address.is_link_local or address.is_private or address.is_reserved or address.is_multicast:
        return "a private or local network"
    return None


def trusted_as_written(host: str) -> bool:
    """A host the operator listed as an IP literal or `localhost` names exactly what it means."""
    literal = _literal(host)
    return host == "localhost" or (literal is not None and literal != METADATA)


class CheckedResolver(AbstractResolver):
    """aiohttp's resolver, refusing any address a feed may not reach (checked at each connection)."""

    def __init__(
        self,
        allowed_hosts: Collection[str],
        own: Collection[ipaddress.IPv4Address | ipaddress.IPv6Address] | None = None,
    ) -> None:
        self.allowed = allowed_hosts
        self.own = own_addresses() if own is None else own
        self.inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        trusted = host.lower() in self.allowed and trusted_as_written(host.lower())
        for result in results:
            address = plain(ipaddress.ip_address(result["host"]))
            why = address_refused(address, self.own)
            if why and (address == METADATA or not trusted):
                raise AddressRefused(
                    f"`{host}` resolves to {address}, {why}: no feed may be fetched from there."
                )
        return results

    async def close(self) -> None:
        await self.inner.close()


@dataclass(frozen=True)
class Fetched:
    status: int  # 200, or 304: not modified
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


class FetchFailed(Exception):
    """A fetch that did not bring a feed: a network error, a timeout, an HTTP error, too large."""


def session_for(allowed_hosts: Collection[str], timeout: float = 15.0) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        resolver=CheckedResolver(allowed_hosts), limit=32, ttl_dns_cache=0, use_dns_cache=False
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout),
        headers={"User-Agent": "racedesk-feeds/1"},
    )


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    allowed_hosts: Collection[str],
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limit: int = MAX_DOWNLOAD,
) -> Fetched:
    """GET the feed (conditionally when an ETag or Last-Modified is known), at most `limit` bytes, no
    redirects (a redirect could lead anywhere)."""
    check_url(url, allowed_hosts)
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with session.get(url, headers=headers, allow_redirects=False) as response:
            if response.status == 304:
                return Fetched(304, etag=etag, last_modified=last_modified)
            if response.status != 200:
                raise FetchFailed(f"HTTP {response.status} from the feed.")
            declared = response.content_length
            if declared is not None and declared > limit:
                raise FetchFailed(f"The feed is {declared:,} bytes, more than the {limit:,} allowed.")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise FetchFailed(f"The feed is more than the {limit:,} bytes allowed.")
                chunks.append(chunk)
            return Fetched(
                200,
                b"".join(chunks),
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
            )
    except UrlRefused:
        raise
    except aiohttp.ClientConnectorError as problem:
        cause: Any = problem.os_error
        if isinstance(cause, AddressRefused):
            raise UrlRefused(str(cause)) from None
        raise FetchFailed(f"Could not connect to the feed ({problem}).") from None
    except TimeoutError:
        raise FetchFailed("The feed did not answer in time.") from None
    except aiohttp.ClientError as problem:
        raise FetchFailed(f"The feed's answer broke off ({problem.__class__.__name__}).") from None
    except asyncio.CancelledError:
        raise
