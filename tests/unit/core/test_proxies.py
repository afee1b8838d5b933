"""The forwarded-address rule (perfmon.core.proxies): X-Forwarded-For counts only from trusted proxies."""

from __future__ import annotations

import ipaddress

import pytest

from perfmon.core.proxies import TrustedProxies, parse_address

LOCAL = TrustedProxies.parse("127.0.0.1")


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("192.0.2.1", ["203.0.113.9"], "192.0.2.1"),  # not a proxy of ours: the header is ignored
    ("127.0.0.1", [], "127.0.0.1"),  # a proxy that forwarded nothing: the proxy
    ("127.0.0.1", ["203.0.113.9"], "203.0.113.9"),
    ("127.0.0.1", ["6.6.6.6, 203.0.113.9"], "203.0.113.9"),  # the client wrote 6.6.6.6 itself
    ("127.0.0.1", ["6.6.6.6", "203.0.113.9, 127.0.0.1"], "203.0.113.9"),  # two header lines, two proxies
    ("127.0.0.1", ["127.0.0.1, 127.0.0.1"], "127.0.0.1"),  # every hop ours: from the proxy's host
    ("127.0.0.1", ["6.6.6.6, garbage"], "127.0.0.1"),  # unparsable: nothing to its left is believed
    ("127.0.0.1", ["203.0.113.9:5555"], "203.0.113.9"),
    ("127.0.0.1", ["[2001:db8::1]:443"], "2001:db8::1"),
    ("127.0.0.1", ["2001:DB8::1"], "2001:db8::1"),
    ("::ffff:127.0.0.1", ["203.0.113.9"], "203.0.113.9"),  # an IPv4-mapped peer is the IPv4 proxy
    (None, ["203.0.113.9"], "unknown"),
])
def test_the_client_is_the_right_most_untrusted_forwarded_address(
        peer: str | None, forwarded: list[str], client: str) -> None:
    assert LOCAL.client(peer, forwarded) == client


def test_networks_are_trusted_whole_and_nothing_is_trusted_by_default() -> None:
    proxies = TrustedProxies.parse(" 10.0.0.0/8 , ::1,10.0.0.0/8")
    assert str(proxies) == "10.0.0.0/8,::1/128"
    assert proxies.trusts("10.200.3.4") and proxies.trusts("::1") and not proxies.trusts("11.0.0.1")
    assert proxies.client("10.9.9.9", ["198.51.100.2, 10.1.1.1"]) == "198.51.100.2"
    assert not TrustedProxies() and TrustedProxies().client("127.0.0.1", ["6.6.6.6"]) == "127.0.0.1"
    assert parse_address("not-an-address") is None


@pytest.mark.parametrize("text", ["", " , ", "localhost", "10.0.0.0/33", "1.2.3.4.5"])
def test_a_bad_proxy_list_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        TrustedProxies.parse(text)


def test_proxies_are_parsed_skipping_empty_parts_and_host_bits() -> None:
    assert TrustedProxies.parse(" , 10.0.0.5/8,,::1 ").networks == (ipaddress.ip_network("10.0.0.0/8"),
                                                                   ipaddress.ip_network("::1/128"))
    assert str(TrustedProxies.parse("127.0.0.1,127.0.0.1")) == "127.0.0.1/32"
    assert bool(TrustedProxies.parse("::1")) is True and bool(TrustedProxies()) is False


@pytest.mark.parametrize(("text", "message"), [
    ("10.0.0.1,nope", "'nope' is not an IP address or a network such as 10.0.0.0/8"),
    (" , ", "expected at least one address or network"),
])
def test_a_bad_proxy_list_says_why(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        TrustedProxies.parse(text)
    assert str(raised.value) == message


def test_no_address_is_never_trusted() -> None:
    assert LOCAL.trusts(None) is False and LOCAL.trusts("") is False and LOCAL.trusts("127.0.0.1") is True


def test_a_forwarded_address_loses_its_brackets_port_and_zone() -> None:
    assert parse_address("[2001:db8::1") is None  # an unclosed bracket
    assert parse_address("[::1]x]") == ipaddress.ip_address("::1")  # the first closing bracket
    assert str(parse_address("fe80::1%eth0")) == "fe80::1" and str(parse_address("fe80::1%a%b")) == "fe80::1"
