"""TLS end to end: the API, the dashboard and the launcher over HTTPS with certificates made at test time."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from perfmon.ui.tick import signature
from tests.support.processes import Running, free_port

TOKEN = "tls-test-token-0123456789"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def cert_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The server's certificate (for 127.0.0.1 and localhost), its key, and the CA's certificate."""
    folder = tmp_path_factory.mktemp("tls")
    server = ca.issue_cert("127.0.0.1", "localhost")
    cert, key, authority = folder / "server.pem", folder / "server.key", folder / "ca.pem"
    server.cert_chain_pems[0].write_to_path(str(cert))
    for pem in server.cert_chain_pems[1:]:
        pem.write_to_path(str(cert), append=True)
    server.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(authority))
    return cert, key, authority


def get(url: str, authority: Path, headers: dict[str, str] | None = None,
        data: bytes | None = None) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=str(authority))
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def launched(cert_files: tuple[Path, Path, Path]) -> Iterator[tuple[str, str, Path]]:
    cert, key, authority = cert_files
    api, dashboard = free_port(), free_port()
    with Running("run_http_polling_system.py", "--api-port", str(api), "--dashboard-port", str(dashboard),
                 "--interval", "0.5", "--tls-cert", str(cert), "--tls-key", str(key)) as running:
        out = running.read_stdout_until("Ctrl-C stops both")
        yield out, f"127.0.0.1:{api}", authority
        assert running.stop() == 0


def test_the_launcher_serves_both_over_https(launched: tuple[str, str, Path]) -> None:
    out, api, authority = launched
    assert f"https://{api}/api/performance" in out and "perfmon dashboard: https://" in out
    status, body = get(f"https://{api}/api/performance", authority)
    assert status == 200 and json.loads(body)["seq"] >= 1


def test_the_dashboard_reaches_its_api_over_https(launched: tuple[str, str, Path]) -> None:
    out, _, authority = launched
    dashboard = out.split("perfmon dashboard: ", 1)[1].split()[0].rstrip("/")
    status, page = get(dashboard + "/", authority)
    assert status == 200 and b"<title>perfmon</title>" in page
    status, body = get(dashboard + signature.URL_PATH, authority, {"Content-Type": "application/json"},
                       json.dumps(signature.request_body()).encode())
    assert status == 200
    updates, _, _ = signature.read_response(body)
    assert updates["status.children"] == "Connected", updates.get("status-detail.children")


def test_plain_http_to_the_tls_port_gets_no_answer(launched: tuple[str, str, Path]) -> None:
    _, api, _ = launched
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"http://{api}/api/health", timeout=5).read()


def test_an_unusable_certificate_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bogus = tmp_path / "cert.pem"
    bogus.write_text("not a certificate\n")
    result = subprocess.run([sys.executable, "run_http_polling_system.py", "--api-port", str(free_port()),
                             "--dashboard-port", str(free_port()), "--tls-cert", str(bogus),
                             "--tls-key", str(bogus)], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: cannot use the TLS certificate {bogus}")
    assert "Traceback" not in result.stderr
