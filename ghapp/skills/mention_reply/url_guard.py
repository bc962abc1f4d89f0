"""Where a URL responder may be called (PRODUCT.md §5.1), and how the call is signed.

A repository writer chooses the responder in `.github/ghapp.yml`, so the URL is an
attacker's input: without a guard, `responder: http://127.0.0.1:8500/…` would make the
App fetch a service on its own host and post the answer in a public thread. So:

- a URL named by a repository must be on the operator's `RESPONDER_ALLOWED_HOSTS`;
- the host is resolved here, and a loopback, private, link-local, multicast or reserved
  address is refused unless the operator listed that host explicitly; the connection then
  goes to the address that was checked (the name is kept for `Host` and TLS), so a second
  DNS answer cannot point somewhere else;
- `http://` only for a listed host; redirects are never followed (the caller's client);
- every request carries `X-Ghapp-Signature-256: sha256=HMAC(RESPONDER_SECRET, body)`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

SIGNATURE_HEADER = "X-Ghapp-Signature-256"


class ResponderRefused(Exception):
    """This URL may not be called; the message is for the logs."""


@dataclass(frozen=True)
class Target:
    """Where to connect: the checked address, and the name for `Host` and TLS."""

    url: httpx.URL  # with the address in place of the name
    host: str
    host_header: str


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast and not address.is_reserved


async def resolve(url: str, *, allowed_hosts: tuple[str, ...], from_repository: bool) -> Target:
    """The checked target of `url`, or ResponderRefused saying why not."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or parts.scheme not in ("https", "http"):
        raise ResponderRefused(f"not an http(s) URL with a host: {url!r}")
    listed = host in allowed_hosts
    if from_repository and not listed:
        raise ResponderRefused(f"responder host {host} is not on RESPONDER_ALLOWED_HOSTS")
    if parts.scheme == "http" and not listed:
        raise ResponderRefused(f"http:// only for a host listed in RESPONDER_ALLOWED_HOSTS: {host}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ResponderRefused(f"cannot resolve {host}: {exc}") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]
    if not addresses:
        raise ResponderRefused(f"{host} has no address")
    private = [str(a) for a in addresses if not is_public(a)]
    if private and not listed:
        raise ResponderRefused(f"{host} resolves to a non-public address ({private[0]})")
    target = httpx.URL(url).copy_with(host=str(addresses[0]))
    return Target(target, host, parts.netloc.rpartition("@")[2])


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
