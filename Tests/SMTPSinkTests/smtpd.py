#!/usr/bin/env python3
"""A loopback SMTP server for the SMTP sink tests (aiosmtpd).

Listens on 127.0.0.1 (port 0 by default), prints `CERT <path>` (when TLS is on) and then
`LISTENING <port>` on stdout, and stores every accepted message as `<n>.eml` (the DATA bytes as
received, CRLF line endings) with `<n>.json` beside it (envelope sender, recipients, the client's
port, so a test can tell which messages shared a connection) in --store.

  --tls starttls|implicit|none   STARTTLS offered (default), TLS from the first byte (smtps), or none
  --require-starttls             refuse MAIL before STARTTLS
  --user U --password P          offer AUTH PLAIN/LOGIN and require it before MAIL
  --fail STAGE:CODE:N            answer the next N commands of STAGE (mail, rcpt, data) with CODE
                                 (e.g. rcpt:451:1, data:550:2); repeatable

Exits on stdin EOF or SIGTERM. Standard library plus aiosmtpd; the certificate comes from the
`openssl` binary, else the `cryptography` module.
"""

import argparse
import asyncio
import datetime
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

REPLIES = {
    421: "421 4.3.2 Service shutting down",
    450: "450 4.2.1 Mailbox busy, try again later",
    451: "451 4.3.0 Temporary local problem, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 Mailbox unavailable",
    552: "552 5.3.4 Message too big",
    554: "554 5.7.1 Message rejected as spam",
}


def make_certificate(folder):
    cert = os.path.join(folder, "cert.pem")
    key = os.path.join(folder, "key.pem")
    if shutil.which("openssl"):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
             "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-addext", "basicConstraints=critical,CA:TRUE"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return cert, key
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256()))
    with open(key, "wb") as out:
        out.write(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption()))
    with open(cert, "wb") as out:
        out.write(certificate.public_bytes(serialization.Encoding.PEM))
    return cert, key


class Handler:
    def __init__(self, store, faults):
        self.store = store
        self.faults = faults  # {"rcpt": [code, remaining], ...}
        self.count = 0

    def fault(self, stage):
        entry = self.faults.get(stage)
        if entry and entry[1] > 0:
            entry[1] -= 1
            return REPLIES.get(entry[0], f"{entry[0]} {'4.0.0' if entry[0] < 500 else '5.0.0'} Refused")
        return None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self.fault("mail")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.fault("rcpt")
        if reply:
            # Real servers often echo the address; the sink must not pass it on.
            return reply + f" <{address}>"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.fault("data")
        if reply:
            return reply
        self.count += 1
        base = os.path.join(self.store, f"{self.count:04d}")
        with open(base + ".json.tmp", "w") as out:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "peer_port": session.peer[1] if session.peer else None,
                       "authenticated": bool(session.authenticated)}, out)
        with open(base + ".eml.tmp", "wb") as out:
            out.write(envelope.original_content)
        os.replace(base + ".json.tmp", base + ".json")
        os.replace(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--store", required=True)
    parser.add_argument("--tls", choices=["starttls", "implicit", "none"], default="starttls")
    parser.add_argument("--require-starttls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--fail", action="append", default=[])
    args = parser.parse_args()

    os.makedirs(args.store, exist_ok=True)
    faults = {}
    for item in args.fail:
        stage, code, count = item.split(":")
        faults[stage.lower()] = [int(code), int(count)]
    handler = Handler(args.store, faults)

    folder = tempfile.mkdtemp(prefix="smtpd-")
    context = None
    if args.tls != "none":
        cert, key = make_certificate(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        print(f"CERT {cert}", flush=True)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password)
        return AuthResult(success=ok, handled=False)

    def factory():
        options = dict(hostname="smtpd.test", decode_data=False, ident="lethe-test-smtpd")
        if args.tls == "starttls":
            options.update(tls_context=context, require_starttls=args.require_starttls)
        if args.user is not None:
            # With implicit TLS aiosmtpd does not see the connection as TLS, so only STARTTLS gates AUTH.
            options.update(authenticator=authenticate, auth_required=True,
                           auth_require_tls=args.tls == "starttls")
        else:
            options.update(auth_require_tls=False)
        return SMTP(handler, **options)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        factory, host="127.0.0.1", port=args.port, ssl=context if args.tls == "implicit" else None))
    port = server.sockets[0].getsockname()[1]
    print(f"LISTENING {port}", flush=True)

    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: (os.read(sys.stdin.fileno(), 4096) or stop.set()) and None)

    async def wait():
        await stop.wait()

    try:
        loop.run_until_complete(wait())
    finally:
        server.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
