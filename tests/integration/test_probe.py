"""One request and its answer in words: against the real API, stand-ins that refuse, and TLS on both sides."""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import trustme

from perfmon.runtime.probe import Answer, ask, certificate_names
from perfmon.runtime.servers import ApiServerThread
from perfmon.settings import Security, ServerConfig
from perfmon.settings.security import client_context
from tests.support.apiserver import serving
from tests.support.processes import free_port

TOKEN = "probe-test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    """The real API with a token, answering to localhost but not to 127.0.0.1 (as set up by hand)."""
    security = Security(token=TOKEN, allowed_hosts=("localhost", "monitor.example"))
    server = ApiServerThread(ServerConfig(port=0, interval_seconds=0.2, security=security))
    server.start()
    assert server.wait_listening(20), server.error
    yield server.url
    server.stop()
    server.join(10)


def test_a_misdirected_request_names_the_name_and_the_flag(api: str) -> None:
    answer = ask(f"{api}/api/health")
    assert answer.status == 421 and answer.permanent
    assert answer.problem.startswith("answered 421 (misdirected request: Host 127.0.0.1:")
    assert answer.problem.endswith(": add 127.0.0.1 to its --allowed-hosts")


def test_a_missing_or_wrong_token_says_where_a_token_comes_from(api: str) -> None:
    url = api.replace("127.0.0.1", "localhost") + "/api/performance"
    without, wrong = ask(url), ask(url, token="not-the-token-0123456789")
    assert (without.status, wrong.status) == (401, 401) and without.permanent and wrong.permanent
    assert without.problem.startswith("answered 401 (") and without.problem.endswith(
        "): it wants a token; give it with --token-file PATH or PERFMON_TOKEN")
    assert wrong.problem.endswith("): the token is not the server's; give its own with --token-file PATH "
                                  "or PERFMON_TOKEN")
    deadline = time.monotonic() + 20
    while (right := ask(url, token=TOKEN)).status == 503 and time.monotonic() < deadline:
        time.sleep(0.05)  # no first sample yet
    assert (right.status, right.problem) == (200, "")


class Refusing(http.server.BaseHTTPRequestHandler):
    """A stand-in that answers every GET with the status and headers of its class."""

    status: ClassVar[int] = 401
    headers_out: ClassVar[dict[str, str]] = {}
    body: ClassVar[bytes] = b'{"error": {"status": 401, "message": "authentication required"}}'

    def do_GET(self) -> None:
        self.send_response(self.status)
        for name, value in {"Content-Type": "application/json", **self.headers_out}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: Any) -> None:
        pass


class TooMany(Refusing):
    status = 429
    headers_out: ClassVar[dict[str, str]] = {"Retry-After": "8"}
    body = b'{"error": {"status": 429, "message": "too many failed attempts"}}'


def test_an_api_error_message_is_quoted() -> None:
    with serving(Refusing) as url:
        answer = ask(f"{url}/api/performance")
    assert answer.problem == ("answered 401 (authentication required): it wants a token; "
                              "give it with --token-file PATH or PERFMON_TOKEN")


def test_429_is_worth_waiting_for_and_says_how_long() -> None:
    with serving(TooMany) as url:
        answer = ask(f"{url}/api/performance", token=TOKEN)
    assert answer.problem == ("answered 429 (too many failed attempts): too many wrong tokens from this "
                              "address; retry in 8 s")
    assert not answer.permanent


def test_refused_and_silent_servers() -> None:
    port = free_port()
    refused = ask(f"http://127.0.0.1:{port}/api/health")
    assert refused == Answer(None, f"connection refused by 127.0.0.1:{port}: is the server running there?")
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/health"
        started = time.monotonic()
        answer = ask(url, timeout=0.3)
        assert time.monotonic() - started < 2
    assert answer.problem == f"no answer from {url.split('/')[2]} within 0.3 s"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A stand-in over HTTPS whose certificate (of a private CA) names monitor.example and 192.0.2.10."""
    folder = tmp_path_factory.mktemp("probe-tls")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("monitor.example", "192.0.2.10").configure_cert(context)
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", folder / "ca.pem"
    server.shutdown()
    server.server_close()


def test_an_untrusted_certificate_says_which_flag_trusts_it(tls_server: tuple[str, Path]) -> None:
    url, ca_file = tls_server
    untrusted = ask(f"{url}/api/performance", ssl.create_default_context())
    assert untrusted.status is None and untrusted.problem.startswith(
        f"the TLS certificate of {url.split('/')[2]} is not trusted (unable to get local issuer certificate)")
    assert "--api-ca-file" in untrusted.problem
    wrong_name = ask(f"{url}/api/performance", client_context(ca_file))
    assert "IP address mismatch" in wrong_name.problem  # reached by 127.0.0.1, which it does not carry
    assert "a name the certificate carries" in wrong_name.problem
    assert ask(f"{url}/api/performance", client_context(ca_file, check_hostname=False)).status == 401


def test_tls_to_a_plain_server_and_plain_to_a_tls_server(tls_server: tuple[str, Path], api: str) -> None:
    url, _ = tls_server
    plain_to_tls = ask(url.replace("https", "http") + "/api/health")
    assert plain_to_tls.problem.endswith("closed the connection: does it serve https://?"), plain_to_tls
    tls_to_plain = ask(api.replace("http", "https") + "/api/health", ssl.create_default_context())
    assert tls_to_plain.problem.endswith("does it serve http://, not https://?"), tls_to_plain


def test_the_names_a_certificate_carries(tls_server: tuple[str, Path]) -> None:
    url, ca_file = tls_server
    assert certificate_names(url, client_context(ca_file, check_hostname=False)) == ["monitor.example",
                                                                                   "192.0.2.10"]
    assert certificate_names(f"https://127.0.0.1:{free_port()}", ssl.create_default_context()) == []
