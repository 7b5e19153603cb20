"""TLS (``rediss://``) and an ACL user with a password, against a real redis-server this test starts: the run gives
its results, and the password is never shown."""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

PASSWORD = "tls-acl-secret-93c1"
WORKFLOW = """
from d4py import WorkflowGraph
from d4py.testing.pes import Add, Numbers, Summary
add = Add(1)
add.numprocesses = 2  # pooled
graph = WorkflowGraph()
graph.connect(Numbers(200), "output", add, "input")
graph.connect(add, "output", Summary("global"), "input")
"""
# What the docs advise for a shared server: the run's keys only, and the commands it uses.
ACL = [
    *("alice", "on", f">{PASSWORD}", "~d4py:*", "resetchannels", "-@all"),
    *("+@stream", "+@hash", "+@set", "+@string", "+@scripting", "+@keyspace", "+@connection"),
]


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate it signs for 127.0.0.1: the CA's PEM file, the server's certificate and key."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: ec.EllipticCurvePrivateKey, ca: bool
    ) -> bytes:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca, cert, key = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca.write_bytes(certificate("d4py test CA", ca_key, "d4py test CA", ca_key, ca=True))
    cert.write_bytes(certificate("127.0.0.1", server_key, "d4py test CA", ca_key, ca=False))
    key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca, cert, key


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A redis-server on 127.0.0.1 that speaks TLS only, whose one user is ``alice``: its URL and the CA's file."""
    ca, cert, key = _certificates(tmp_path)
    port = _free_port()
    command = [
        *("redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)),
        *("--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(ca)),
        *("--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--user", "default", "off", "--user", *ACL),
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"rediss://alice:{PASSWORD}@127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, ssl_ca_certs=str(ca), socket_timeout=5)
    deadline = time.monotonic() + 10
    try:
        while True:  # wait for the port: polled, bounded
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None:
                    said = server.stdout.read() if server.stdout else ""
                    lowered = said.lower()
                    if "tls" in lowered and ("bad directive" in lowered or "not supported" in lowered):
                        pytest.skip(f"this redis-server was built without TLS: {said.strip().splitlines()[-1]}")
                    raise AssertionError(f"redis-server did not start: {said}") from None
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.01)
        yield url, ca
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def _run(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    workflow = tmp_path / "tls_workflow.py"
    workflow.write_text(WORKFLOW)
    command = [sys.executable, "-m", "d4py", "run", "-b", "redis", str(workflow), "--json", *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_a_run_over_tls_as_an_acl_user_gives_its_results_and_never_shows_the_password(
    tls_server: tuple[str, Path], tmp_path: Path
) -> None:
    url, ca = tls_server
    done = _run(tmp_path, f"-ourl={url}", f"-oca_file={ca}", "-opool_workers=2")
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    ((count, total, _),) = json.loads(done.stdout)["outputs"]["Summary2"]["output"]
    assert (count, total) == (200, sum(range(1, 201)))
    client = redis.Redis.from_url(url, ssl_ca_certs=str(ca), socket_timeout=5)
    assert client.keys("d4py:*") == []  # the run left nothing on the server


def test_a_wrong_password_or_no_ca_over_tls_fails_with_a_line_that_shows_no_password(
    tls_server: tuple[str, Path], tmp_path: Path
) -> None:
    url, ca = tls_server
    wrong = url.replace(PASSWORD, "wrong-tls-password-77b0")
    refused = _run(tmp_path, f"-ourl={wrong}", f"-oca_file={ca}")
    assert refused.returncode == 1
    assert "cannot reach the Redis server at rediss://***@127.0.0.1" in refused.stderr
    assert PASSWORD not in refused.stderr and "wrong-tls-password-77b0" not in refused.stderr
    untrusted = _run(tmp_path, f"-ourl={url}")  # the test CA is not the system's
    assert untrusted.returncode == 1
    assert "certificate" in untrusted.stderr and "-o ca_file=" in untrusted.stderr
    assert PASSWORD not in untrusted.stderr
