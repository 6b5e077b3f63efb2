"""HTTPS: the real server with certificates made by the test (trustme; nothing committed), driven by curl, Python's
ssl + http.client and raw sockets: protocol versions, mutual TLS, hot reload (SIGHUP and changed files, a broken pair
keeps the old one), stalled handshakes, garbage and plain HTTP on the TLS port, start-up errors naming the file."""
import concurrent.futures
import datetime
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest
import trustme
from cryptography import x509

from harness import ServiceProcess, fixture

IMAGE = fixture("images/cat-444.jpg")
TINY = fixture("tiny-seresnet")


def write_pair(directory, ca, name="server", **issue):
    """Issues a server certificate for localhost/127.0.0.1 and writes chain + key; returns (chain, key, serial)."""
    cert = ca.issue_cert("localhost", "127.0.0.1", **issue)
    chain, key = directory / f"{name}-chain.pem", directory / f"{name}-key.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    key.write_bytes(cert.private_key_pem.bytes())
    serial = x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes()).serial_number
    return chain, key, serial


def client_context(ca, client_cert=None):
    context = ssl.create_default_context()
    ca.configure_trust(context)
    if client_cert is not None:
        client_cert.configure_cert(context)
    return context


def serial_seen(port, ca):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with client_context(ca).wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number


def start(binary, *args, ca, client_cert=None):
    service = ServiceProcess.ready(binary, TINY, *args, ssl_context=client_context(ca, client_cert))
    return service


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def https(binary, ca, tmp_path_factory):
    chain, key, _ = write_pair(tmp_path_factory.mktemp("tls"), ca)
    service = start(binary, "--tls-cert", str(chain), "--tls-key", str(key), "--header-timeout-s", "3", ca=ca)
    yield service
    assert service.stop() == 0


def test_curl_and_http_client_over_https(https, ca, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    base = f"https://127.0.0.1:{https.port}"
    for extra in (["--data-binary", f"@{IMAGE}"], ["-F", f"file=@{IMAGE}"]):
        out = subprocess.run(["curl", "-sS", "--cacert", str(ca_file), *extra, f"{base}/classify"], capture_output=True, check=True)
        assert len(json.loads(out.stdout)["predictions"]) == 5
    for path in ("/healthz", "/readyz", "/metrics", "/v2/health/ready"):
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", "--cacert", str(ca_file),
                              f"{base}{path}"], capture_output=True, text=True, check=True)
        assert out.stdout == "200 1.1", (path, out.stdout)
    # http.client: three requests on one keep-alive TLS connection.
    connection = https.connection()
    for _ in range(3):
        connection.request("POST", "/classify", body=IMAGE.read_bytes())
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["predictions"]
    assert connection.sock.version() in ("TLSv1.3", "TLSv1.2") and connection.sock.selected_alpn_protocol() is None
    connection.close()
    metrics = https.get("/metrics")[2].decode()
    assert "seresnet_tls_certificate_expiry_seconds" in metrics
    entries = [e for e in https.log_entries() if e.get("message") == "request"]
    assert entries and all(e.get("tls") in ("TLSv1.3", "TLSv1.2") for e in entries)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_with_alpn(https, ca, version):
    context = client_context(ca)
    context.minimum_version = context.maximum_version = version
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", https.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
            assert tls.selected_alpn_protocol() == "http/1.1"
            if version == ssl.TLSVersion.TLSv1_2:
                name, _, bits = tls.cipher()
                assert ("GCM" in name or "CHACHA20" in name) and name.startswith("ECDHE"), name
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert tls.recv(4096).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_tls_1_0_and_1_1_alone_are_refused(https, ca, version):
    context = client_context(ca)
    context.minimum_version = context.maximum_version = version
    context.set_ciphers("DEFAULT@SECLEVEL=0")  # let the client offer them at all
    with socket.create_connection(("127.0.0.1", https.port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            context.wrap_socket(raw, server_hostname="127.0.0.1")
    assert https.get("/healthz")[0] == 200


def test_stalled_handshakes_cost_a_slot_until_the_header_timeout_and_never_delay_others(https):
    stalled = []
    for i in range(200):
        sock = socket.create_connection(("127.0.0.1", https.port), timeout=10)
        # Half of them send the start of a ClientHello, half nothing at all.
        if i % 2:
            sock.sendall(bytes.fromhex("160301020001"))
        stalled.append(sock)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: https.post("/classify", IMAGE.read_bytes())[0], range(20)))
    assert statuses == [200] * 20 and time.monotonic() - started < 20
    # The header timeout (3 s here) closes them: each read sees EOF or a reset (a TLS alert first is fine), never
    # a timeout of ours.
    deadline = time.monotonic() + 15
    for sock in stalled:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            while sock.recv(1024):
                pass
        except ConnectionResetError:
            pass
        sock.close()
    assert time.monotonic() < deadline
    assert https.get("/healthz")[0] == 200


# Garbage starts with a byte that is neither a TLS record (0x16) nor a letter of an HTTP method (A-Z, which gets the
# plain-text 400): a random first byte would be a letter one run in ten.
@pytest.mark.parametrize("payload", [b"\x00" + random.Random(7).randbytes(4095), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                                     bytes.fromhex("16030100") + random.Random(8).randbytes(300)])
def test_garbage_and_plain_http_on_the_tls_port_are_closed_cleanly(https, payload):
    with socket.create_connection(("127.0.0.1", https.port), timeout=10) as sock:
        sock.sendall(payload)
        reply = b""
        try:
            while chunk := sock.recv(4096):
                reply += chunk
        except ConnectionResetError:
            pass
    if payload.startswith(b"GET "):
        # As nginx does: a plain-text 400 that says what to do, then the close.
        assert reply.startswith(b"HTTP/1.1 400 ") and b"plain_http_on_tls_port" in reply and b"https://" in reply, reply
    else:
        assert not reply.startswith(b"HTTP/1.1"), reply[:80]
    assert https.get("/healthz")[0] == 200


@pytest.fixture(scope="module")
def mtls(binary, ca, tmp_path_factory):
    directory = tmp_path_factory.mktemp("mtls")
    chain, key, _ = write_pair(directory, ca)
    ca_file = directory / "client-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    client = ca.issue_cert("client@example.com")
    service = start(binary, "--tls-cert", str(chain), "--tls-key", str(key), "--tls-client-ca", str(ca_file), ca=ca, client_cert=client)
    yield service, client
    assert service.stop() == 0


def handshake_and_get(port, context):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return tls.recv(4096)


def test_mutual_tls(mtls, ca):
    service, client = mtls
    assert handshake_and_get(service.port, client_context(ca, client)).startswith(b"HTTP/1.1 200")
    # No certificate, or one from another CA: refused (TLS 1.3 reports it at the first read).
    other = trustme.CA().issue_cert("mallory@example.com")
    for context in (client_context(ca), client_context(ca, other)):
        try:
            reply = handshake_and_get(service.port, context)
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            continue
        assert not reply, f"answered without a valid client certificate: {reply[:40]!r}"  # an empty read (close) is a refusal
    expected = x509.load_pem_x509_certificate(client.cert_chain_pems[0].bytes()).subject.rfc4514_string()
    subjects = [e.get("client_subject") for e in service.log_entries() if e.get("message") == "request"]
    assert expected in subjects, (expected, subjects)


@pytest.mark.parametrize("trigger", ["signal", "file change"])
def test_reload_serves_the_new_pair_to_new_connections_and_keeps_old_ones(binary, ca, tmp_path, trigger):
    chain, key, first_serial = write_pair(tmp_path, ca)
    # With SIGHUP as the trigger the file check is off: it could otherwise reload between the files' rename and the signal.
    interval = "0" if trigger == "signal" else "1"
    service = start(binary, "--tls-cert", str(chain), "--tls-key", str(key), "--tls-reload-interval-s", interval, ca=ca)
    try:
        assert serial_seen(service.port, ca) == first_serial
        kept = service.connection()
        kept.request("GET", "/healthz")
        assert kept.getresponse().read()
        mark = len(service.log_entries())
        new_chain, new_key, second_serial = write_pair(tmp_path, ca, name="next")
        os.replace(new_key, key)
        os.replace(new_chain, chain)
        if trigger == "signal":
            service.process.send_signal(signal.SIGHUP)
        assert service.wait_for_log("tls reloaded", timeout=20, after=mark)["trigger"] == trigger
        assert serial_seen(service.port, ca) == second_serial
        kept.request("GET", "/healthz")
        assert kept.getresponse().status == 200, "the keep-alive connection opened before still works"
        kept.close()
        metrics = service.get("/metrics")[2].decode()
        assert 'seresnet_tls_reload_total{result="success"}' in metrics
        assert service.process.poll() is None
    finally:
        assert service.stop() == 0


def test_a_broken_pair_on_reload_keeps_the_old_one(binary, ca, tmp_path):
    chain, key, serial = write_pair(tmp_path, ca)
    service = start(binary, "--tls-cert", str(chain), "--tls-key", str(key), "--tls-reload-interval-s", "0", ca=ca)
    try:
        mark = len(service.log_entries())
        _, other_key, _ = write_pair(tmp_path, ca, name="other")
        os.replace(other_key, key)  # a key that does not match the certificate (a half-rotated Secret)
        service.process.send_signal(signal.SIGHUP)
        failure = service.wait_for_log("tls reload failed; the previous certificate keeps serving", timeout=20, after=mark)
        assert "does not match" in failure["error"] and str(key) in failure["error"]
        assert serial_seen(service.port, ca) == serial
        assert service.post("/classify", IMAGE.read_bytes())[0] == 200
        assert 'seresnet_tls_reload_total{result="failure"} 1' in service.get("/metrics")[2].decode()
    finally:
        assert service.stop() == 0


def test_start_up_errors_name_the_file(binary, ca, tmp_path):
    chain, key, _ = write_pair(tmp_path, ca)
    _, other_key, _ = write_pair(tmp_path, ca, name="other")
    expired_chain, expired_key, _ = write_pair(
        tmp_path, ca, name="expired", not_before=datetime.datetime(2020, 1, 1), not_after=datetime.datetime(2021, 1, 1))
    cases = [
        (["--tls-cert", str(chain), "--tls-key", str(other_key)], "does not match"),
        (["--tls-cert", str(expired_chain), "--tls-key", str(expired_key)], "expired on 2021-01-01"),
        (["--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(key)], "missing.pem"),
        (["--tls-cert", str(chain)], "--tls-cert and --tls-key go together"),
    ]
    for args, expected in cases:
        result = subprocess.run([str(binary), "serve", "--model", str(TINY), "--port", "0", *args], capture_output=True, text=True,
                                timeout=30)
        assert result.returncode != 0 and expected in result.stderr, (args, result.stderr[-400:])


def conventional_pair(directory):
    """A CA and an ECDSA P-256 server certificate as a public CA would issue them (90 days, a subject, a non-critical
    subjectAltName, key identifiers: sslyze's path validation rejects trustme's critical SAN beside a subject)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    import ipaddress
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "seresnet test CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain, key_file, ca_file = directory / "chain.pem", directory / "key.pem", directory / "ca.pem"
    chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return chain, key_file, ca_file


def test_sslyze_finds_nothing_against_mozilla_intermediate(binary, tmp_path):
    """sslyze scans every protocol, suite and known attack, then checks the result against Mozilla's intermediate
    profile (TLS 1.2/1.3 only, forward-secret AEAD suites, curves, no compression, secure renegotiation, no
    Heartbleed/ROBOT/CCS injection, certificate type and lifetime): any finding fails the test."""
    chain, key, ca_file = conventional_pair(tmp_path)
    service = ServiceProcess(binary, TINY, "--tls-cert", str(chain), "--tls-key", str(key),
                             ssl_context=ssl.create_default_context(cafile=str(ca_file)))
    try:
        service.wait_ready()
        result = subprocess.run([sys.executable, "-m", "sslyze", "--mozilla_config", "intermediate", "--certinfo_ca_file", str(ca_file),
                                 f"localhost:{service.port}{{127.0.0.1}}"], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0 and "OK - Compliant." in result.stdout, result.stdout[-3000:] + result.stderr[-1000:]
        assert service.get("/healthz")[0] == 200
    finally:
        assert service.stop() == 0


def test_healthcheck_over_tls(https, ca, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    port = str(https.port)

    def probe(*args, env=None):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SERESNET_")}
        environment.update(env or {})
        return subprocess.run([str(https.process.args[0]), "healthcheck", "--port", port, *args], capture_output=True, text=True,
                              timeout=30, env=environment)

    assert probe("--tls", "--ca", str(ca_file), "--host", "localhost").returncode == 0
    assert probe("--tls", "--insecure").returncode == 0
    # The container's HEALTHCHECK: TLS on in the environment means probe over TLS, without verification.
    assert probe(env={"SERESNET_TLS_CERT": "/etc/seresnet/tls/tls.crt"}).returncode == 0
    untrusted = probe("--tls", "--host", "localhost")
    assert untrusted.returncode == 1 and "does not verify" in untrusted.stdout
    assert probe().returncode == 1  # plain HTTP to the TLS port


def test_arbitrary_tls_records_never_hurt_the_server(https, ca):
    """Feeds the TLS transport 300 arbitrary records: random content types, versions and lengths (under, over and
    exactly the payload), random payloads, sometimes after a real ClientHello's first bytes, several per
    connection. Each connection just ends; the server keeps serving real clients between them."""
    import random
    rng = random.Random(1205)
    hello_start = bytes.fromhex("16030100f4010000f00303")  # a TLS 1.2-style ClientHello header
    for i in range(300):
        records = b"" if i % 3 else hello_start + rng.randbytes(rng.randrange(0, 64))
        for _ in range(rng.randrange(1, 4)):
            body = rng.randbytes(rng.randrange(0, 600))
            declared = rng.choice([len(body), rng.randrange(0, 1 << 16), 0, len(body) + 1])
            records += bytes([rng.choice([20, 21, 22, 23, 24, rng.randrange(256)]), 3, rng.randrange(5)]) + declared.to_bytes(2, "big")
            records += body
        with socket.create_connection(("127.0.0.1", https.port), timeout=10) as sock:
            try:
                sock.sendall(records)
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(4096):
                    pass
            except (ConnectionResetError, BrokenPipeError):
                pass
            except OSError as error:  # the server closed first: ENOTCONN on shutdown
                assert error.errno == 107, error
        if i % 50 == 49:
            assert https.get("/healthz")[0] == 200
    assert https.process.poll() is None
