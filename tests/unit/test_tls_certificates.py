import ssl
import tarfile
import io

from cryptography import x509

from bench.tls import make_certificates


def test_client_context_verifies_and_checks_the_host_name(tmp_path):
    context = make_certificates(tmp_path).client_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_server_certificate_is_for_loopback_and_signed_by_the_run_ca(tmp_path):
    certs = make_certificates(tmp_path)
    server = x509.load_pem_x509_certificate(certs.server_cert_pem)
    ca = x509.load_pem_x509_certificate(certs.ca_path.read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert server.issuer == ca.subject
    server.verify_directly_issued_by(ca)


def test_each_run_gets_its_own_ca(tmp_path):
    first = make_certificates(tmp_path / "a").ca_path.read_bytes()
    second = make_certificates(tmp_path / "b").ca_path.read_bytes()
    assert first != second


def test_server_archive_holds_cert_and_private_key(tmp_path):
    certs = make_certificates(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(certs.server_archive())) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert set(members) == {"server.crt", "server.key"}
        assert members["server.key"].mode == 0o600
        assert tar.extractfile("server.key").read() == certs.server_key_pem
