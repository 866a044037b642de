"""Certificates for OPC UA security: self-signed pairs for a server and the collector, and applying them to a client.

Uses asyncua's own generator (asyncua.crypto.cert_gen), which makes certificates as OPC 10000-4/6 want them:
application URI in subjectAltName, the host name and 127.0.0.1 as alternative names, DER certificate + PEM key."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

from asyncua import Client, ua
from asyncua.crypto import cert_gen, security_policies
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from ingestion.opcua.config import SecurityConfig

COLLECTOR_APP_URI = "urn:plantlake:opcua-collector"
DEMO_SERVER_APP_URI = "urn:plantlake:demo-opcua-server"


@dataclass(frozen=True)
class CertificatePair:
    certificate: Path  # DER
    private_key: Path  # PEM, unencrypted


def generate_certificate(folder: Path | str, name: str, app_uri: str, *, server: bool,
                         days: int = 365) -> CertificatePair:
    """Write `<name>_cert.der` and `<name>_key.pem` into `folder` (overwriting) and return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = cert_gen.generate_private_key()
    alt_names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(app_uri), x509.DNSName(socket.gethostname()),
                                         x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    usage = [ExtendedKeyUsageOID.SERVER_AUTH] if server else [ExtendedKeyUsageOID.CLIENT_AUTH]
    cert = cert_gen.generate_self_signed_app_certificate(key, name, {"organizationName": "plantlake"}, alt_names, usage, days)
    pair = CertificatePair(folder / f"{name}_cert.der", folder / f"{name}_key.pem")
    pair.certificate.write_bytes(cert.public_bytes(Encoding.DER))
    pair.private_key.write_bytes(cert_gen.dump_private_key_as_pem(key))
    pair.private_key.chmod(0o600)
    return pair


def generate_pki(folder: Path | str) -> tuple[CertificatePair, CertificatePair]:
    """A server pair and a collector (client) pair in `folder`: (server, client)."""
    return (generate_certificate(folder, "server", DEMO_SERVER_APP_URI, server=True),
            generate_certificate(folder, "collector", COLLECTOR_APP_URI, server=False))


async def apply_security(client: Client, security: SecurityConfig) -> None:
    """Configure `client` for the policy; with no server certificate given, it is taken from the endpoint list."""
    client.application_uri = COLLECTOR_APP_URI
    if not security.enabled:
        return
    policy = getattr(security_policies, f"SecurityPolicy{security.policy}")
    await client.set_security(policy, str(security.client_certificate), str(security.private_key),
                              server_certificate=str(security.server_certificate) if security.server_certificate
                              else None, mode=getattr(ua.MessageSecurityMode, security.mode))
