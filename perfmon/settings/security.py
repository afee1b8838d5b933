"""Who may use a server, under which names, over what: the token, the allowed Host names, TLS.

The token is a secret, so it never comes from a flag (``ps`` shows every process's
command line): ``PERFMON_TOKEN`` or a private file named by ``--token-file``, at least 22
characters (:mod:`perfmon.settings.token` has the rules). A server that
listens beyond loopback without one is refused (exit 2, with how to set one), unless
``--insecure-no-auth`` says it on purpose.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from perfmon.core.proxies import TrustedProxies
from perfmon.settings.token import TOKEN_VARIABLE, read_token

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class Security:
    """What a server checks of each request, and how it listens."""

    token: str | None = field(default=None, repr=False)  # None: no authentication (loopback only)
    allowed_hosts: tuple[str, ...] = LOOPBACK_NAMES  # Host header names (lower case, no port); "*": any
    cors_origins: tuple[str, ...] = ()  # origins the API answers cross-origin requests of
    insecure_no_auth: bool = False  # listening beyond loopback without a token, on purpose
    tls_cert: Path | None = None
    tls_key: Path | None = None
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)  # whose X-Forwarded-For counts

    @property
    def tls(self) -> bool:
        """Whether the server speaks HTTPS."""
        return self.tls_cert is not None

    def server_context(self) -> ssl.SSLContext | None:
        """The TLS context to listen with (TLS 1.2 at least), or None for plain HTTP.

        Raises ValueError, in one line, when the certificate or key cannot be used.
        """
        if self.tls_cert is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.tls_cert, self.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot use the TLS certificate {self.tls_cert} and key {self.tls_key}: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
        return context

    def open_warning(self, host: str, port: int) -> str | None:
        """The warning to log at every start of a server open to the network without a token."""
        if self.token is not None or is_loopback(host):
            return None
        return (f"listening on {host}:{port} WITHOUT AUTHENTICATION (--insecure-no-auth): anyone who "
                f"can reach this port can read everything it serves, process names and users included")

    def host_allowed(self, header: str | None) -> bool:
        """Whether a request's ``Host`` header names this server (DNS rebinding sends another name)."""
        if "*" in self.allowed_hosts:
            return True
        return header is not None and host_name(header) in self.allowed_hosts


def client_context(cafile: Path | None, check_hostname: bool = True) -> ssl.SSLContext:
    """The TLS context to reach an HTTPS API with: the system's CAs, or ``cafile``'s.

    A certificate in ``cafile`` is trusted as it is, even when it is not a CA's (partial
    chains), so a server's own certificate can be named. ``check_hostname`` False is for
    the launcher's hop to its own API on loopback, whose certificate names the host users
    reach, not 127.0.0.1: the certificate itself is still verified.
    """
    context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    if cafile:
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.check_hostname = check_hostname
    return context


def host_name(header: str) -> str:
    """The name in a Host header: no port, no brackets, lower case, no trailing dot."""
    header = header.strip().lower()
    if header.startswith("["):  # [::1]:8000
        return header[1:header.find("]")] if "]" in header else header
    if header.count(":") == 1:
        header = header.split(":", 1)[0]
    return header.rstrip(".")


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` keeps the server on this machine."""
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, named: tuple[str, ...] | None) -> tuple[str, ...]:
    """The server's own names (loopback, the listening address), then those named, else this machine's.

    The own names stay allowed whatever ``--allowed-hosts`` says: the launcher reaches its API,
    and a user on the machine reaches both, through them. DNS rebinding gains nothing from
    it, since a rebinding page's requests carry the page's own name in ``Host``.
    """
    if not named:
        return default_allowed_hosts(host)
    return tuple(dict.fromkeys((*own_names(host), *named)))


def own_names(host: str) -> tuple[str, ...]:
    """Loopback names, and the listening address unless it is a wildcard."""
    return tuple(name for name in (*LOOPBACK_NAMES, host_name(host) if host not in WILDCARDS else "") if name)


def default_allowed_hosts(host: str) -> tuple[str, ...]:
    """Loopback names, the listening address and this machine's names (and addresses, on a wildcard)."""
    names = list(own_names(host))
    hostname = socket.gethostname().lower()
    names += [hostname, socket.getfqdn().lower()]
    if host in WILDCARDS:
        names += local_addresses()
    return tuple(dict.fromkeys(name for name in names if name))


def local_addresses() -> list[str]:
    """The addresses of this machine's interfaces (a wildcard listener answers on each)."""
    import psutil  # here: only a wildcard listener needs it

    return [address.address.split("%", 1)[0].lower() for addresses in psutil.net_if_addrs().values()
            for address in addresses if address.family in (socket.AF_INET, socket.AF_INET6)]


def add_security_options(parser: argparse.ArgumentParser, cors: bool = True, api_ca: bool = False) -> None:
    """Add --token-file, --allowed-hosts, --insecure-no-auth, --tls-cert/--tls-key (and --cors-origin,
    --api-ca-file where they apply)."""
    parser.add_argument("--token-file", type=Path, metavar="PATH",
                        help=f"a private file (chmod 600) holding the access token, 22 characters or more "
                             f"(or set {TOKEN_VARIABLE}; never a flag); `perfmon token` makes one")
    parser.add_argument("--allowed-hosts", type=host_list, metavar="NAMES",
                        help="comma-separated Host names requests may use besides localhost, "
                             "127.0.0.1, ::1 and the listening address, which are always allowed "
                             "(default: this machine's names; * for any)")
    parser.add_argument("--insecure-no-auth", action="store_true",
                        help="listen beyond loopback without a token (warned at every start)")
    parser.add_argument("--trusted-proxies", type=trusted_proxies, default=TrustedProxies(),
                        metavar="ADDRESSES",
                        help="comma-separated addresses or networks (127.0.0.1, 10.0.0.0/8) of reverse "
                             "proxies whose X-Forwarded-For names the client (otherwise it is ignored)")
    parser.add_argument("--tls-cert", type=Path, metavar="PATH", help="serve HTTPS with this certificate")
    parser.add_argument("--tls-key", type=Path, metavar="PATH", help="the certificate's private key")
    if cors:
        parser.add_argument("--cors-origin", action=Repeatable, type=origins, default=(), metavar="ORIGIN",
                            help="an origin (https://host:port) allowed to call the API from a browser; "
                                 "repeatable, or comma-separated")
    if api_ca:
        parser.add_argument("--api-ca-file", type=Path, metavar="PATH",
                            help="CA certificates to verify an HTTPS API with (a private CA)")


class Repeatable(argparse.Action):
    """A repeatable option whose first use on the command line replaces its default (the variable's)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        current = getattr(namespace, self.dest, None)
        if current is None or current is self.default:
            current = ()
        setattr(namespace, self.dest, (*current, *values))  # type: ignore[misc]


def trusted_proxies(text: str) -> TrustedProxies:
    """``127.0.0.1,10.0.0.0/8`` as trusted proxies."""
    try:
        return TrustedProxies.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def host_list(text: str) -> tuple[str, ...]:
    """``a.example,b.example`` as names; at least one."""
    names = tuple(host_name(name) for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected at least one host name")
    return names


def origins(text: str) -> tuple[str, ...]:
    """Comma-separated origins (the variable's form; the flag may also be repeated)."""
    return tuple(origin(part) for part in text.split(",") if part.strip())


def origin(text: str) -> str:
    """An origin: scheme, host and optional port, no path; never ``*`` (credentials are sent)."""
    text = text.strip().rstrip("/")
    scheme, _, rest = text.partition("://")
    if scheme not in ("http", "https") or not rest or "/" in rest or "*" in rest:
        raise argparse.ArgumentTypeError(f"{text!r} is not an origin such as https://host:8443")
    return text.lower()


def security_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace,
                       environ: Mapping[str, str]) -> Security:
    """The checked settings; a usage error (exit 2) names what is wrong and how to fix it."""
    token = read_token(parser, args.token_file, environ)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    for path in (args.tls_cert, args.tls_key, getattr(args, "api_ca_file", None)):
        if path is not None and not path.is_file():
            parser.error(f"no such file: {path}")
    if getattr(args, "api_ca_file", None) is not None:
        try:
            client_context(args.api_ca_file)
        except (OSError, ssl.SSLError) as exc:
            parser.error(f"--api-ca-file {args.api_ca_file}: no usable CA certificates ({exc})")
    if token is None and not is_loopback(args.host) and not args.insecure_no_auth:
        parser.error(f"listening on {args.host} without a token would open every endpoint to the "
                     f"network: put a token in a file and pass --token-file PATH (or set "
                     f"{TOKEN_VARIABLE}); --insecure-no-auth to do it anyway")
    return Security(token=token, allowed_hosts=allowed_hosts(args.host, args.allowed_hosts),
                    cors_origins=tuple(dict.fromkeys(getattr(args, "cors_origin", ()))),
                    insecure_no_auth=args.insecure_no_auth, tls_cert=args.tls_cert, tls_key=args.tls_key,
                    trusted_proxies=args.trusted_proxies)
