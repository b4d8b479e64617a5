"""Where a webhook may be sent. Pure: `sending` resolves the host and asks these rules of each address.

A webhook's URL is chosen by whoever holds a key, so the directory would otherwise send requests wherever it is told:
to its own database port, a cloud's metadata service at 169.254.169.254, an office's printers. So a webhook goes
only to a public address (`refusal` says why any other is refused), over https, with no user name or password in the
URL; the host is resolved when the webhook is registered and again at each delivery (DNS can change between the
two), and the delivery connects to the address it checked. PATHWAYS_WEBHOOKS_ALLOW_PRIVATE lifts the address rule
and allows plain http, for tests and for deployments whose partners' receivers are on the same private network.
"""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from msgspec import Struct

from service.domain.errors import InvalidInput, invalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
MAX_URL = 2000


class Target(Struct, frozen=True, kw_only=True):
    """A webhook's URL, taken apart: where to connect and what to ask for there."""

    scheme: Literal["http", "https"]
    host: str
    """The host name in ASCII (an IDN as punycode), or an IP address without brackets."""
    port: int
    target: str
    """The path and query string, as given (at least "/")."""

    @property
    def host_header(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return shown if self.port == default else f"{shown}:{self.port}"

    @property
    def literal(self) -> IPAddress | None:
        """The host, when the URL names an address rather than a name."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    def url_at(self, address: IPAddress) -> str:
        """The URL with the host replaced by the address checked, which is where the request goes."""
        shown = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{shown}:{self.port}{self.target}"


def _bad(reason: str) -> InvalidInput:
    return invalid("url", reason)


def parse_url(url: str, allow_private: bool) -> Target:
    """A webhook's URL judged by its form alone (InvalidInput naming `url` when it may not be used)."""
    if len(url) > MAX_URL:
        raise _bad(f"must be at most {MAX_URL} characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise _bad("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _bad("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise _bad("must be an https URL")
    if scheme == "http" and not allow_private:
        raise _bad("must be an https URL (webhooks carry a signature, but their contents deserve TLS too)")
    if parts.username is not None or parts.password is not None:
        raise _bad("must not carry a user name or password (the signature authenticates each delivery)")
    if parts.fragment:
        raise _bad("must not have a #fragment")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _bad("must name a host")
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise _bad("has a host name that cannot be written in DNS") from None
    literal = _literal(ascii_host)
    if literal is not None:
        reason = refusal(literal)
        if reason is not None and not allow_private:
            raise _bad(f"is {reason} address; webhooks are sent only to public addresses")
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    found_scheme: Literal["http", "https"] = "https" if scheme == "https" else "http"
    return Target(scheme=found_scheme, host=ascii_host, port=port or (443 if scheme == "https" else 80), target=target)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not go to this address ("a loopback", "a private" …), or None for a public one. An IPv6
    address that carries an IPv4 one (mapped, NAT64, 6to4) is judged by the IPv4 address it reaches."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return refusal(address.ipv4_mapped)
        if address in NAT64:
            return refusal(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None:
            return refusal(address.sixtofour)
    if address.is_loopback:
        return "a loopback"
    if address.is_link_local:
        return "a link-local"
    if address.is_multicast:
        return "a multicast"
    if address.is_unspecified:
        return "an unspecified"
    if address.is_private:
        return "a private"
    if address.is_reserved:
        return "a reserved"
    if not address.is_global:
        return "a non-public"
    return None


def judged(target: Target, addresses: list[IPAddress], allow_private: bool) -> IPAddress:
    """The address to connect to, of those the host resolved to: the first, when every one is allowed. One refused
    address refuses them all (a name that resolves to a public and a private address is not to be trusted)."""
    if not addresses:
        raise _bad(f"its host {target.host} does not resolve to an address")
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                raise _bad(f"its host {target.host} resolves to {reason} address; webhooks go only to public ones")
    return addresses[0]
