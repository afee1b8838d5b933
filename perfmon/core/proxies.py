"""Which address a request came from, when a reverse proxy forwards it: one rule for both servers.

``X-Forwarded-For`` is whatever the client wrote, plus what each proxy on the way appended, so a
server that believes it lets a guesser pick a new address for every guess (uvicorn trusts it by
default from 127.0.0.1: through nginx, 40 of 40 wrong sign-ins with a rotating header were never
throttled). So the header counts only when the connection comes from a proxy named with
``--trusted-proxies``, and then the client is the right-most address in it that is not a trusted
proxy itself: the one the last trusted hop saw. Entries to its left were written by the client.

    >>> proxies = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8")
    >>> proxies.client("127.0.0.1", ["203.0.113.9, 198.51.100.7", "10.1.2.3"])
    '198.51.100.7'
    >>> proxies.client("192.0.2.1", ["203.0.113.9"])  # not from a proxy: the header is ignored
    '192.0.2.1'
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_HOPS = 32  # entries of the header looked at, right to left; a longer chain is not a real one


@dataclass(frozen=True)
class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` is believed (none by default: the header is ignored)."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """``127.0.0.1,::1,10.0.0.0/8``: addresses and CIDR networks; ValueError names a bad one."""
        networks = []
        for part in (piece.strip() for piece in text.split(",")):
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or a network such as 10.0.0.0/8") from None
        if not networks:
            raise ValueError("expected at least one address or network")
        return cls(tuple(dict.fromkeys(networks)))

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __str__(self) -> str:
        return ",".join(str(network) for network in self.networks)

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` (a peer or a header entry) is one of the trusted proxies."""
        parsed = parse_address(address) if address else None
        return parsed is not None and self._trusts(parsed)

    def _trusts(self, address: Address) -> bool:
        mapped = getattr(address, "ipv4_mapped", None)
        address = mapped or address
        return any(address.version == network.version and address in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: Iterable[str] = ()) -> str:
        """The client's address: ``peer`` itself unless it is a trusted proxy; then the right-most
        untrusted address of the ``X-Forwarded-For`` values (all of them, in order)."""
        if not self.networks or peer is None or not self.trusts(peer):
            return peer or "unknown"
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")][-MAX_HOPS:]
        nearest = peer
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:  # garbage the proxy passed on: believe nothing to its left
                return nearest
            nearest = str(address)
            if not self._trusts(address):
                return nearest
        return nearest  # every hop is a proxy of ours: the request came from one of them


def parse_address(text: str) -> Address | None:
    """An address as forwarded (``192.0.2.1``, ``192.0.2.1:5000``, ``[2001:db8::1]:5000``), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
