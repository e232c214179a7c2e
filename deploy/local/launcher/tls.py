"""The gateway's self-signed certificate for localhost, made once per SHOP_DATA_DIR."""
from __future__ import annotations

import shutil
from pathlib import Path

from .commands import run
from .config import LOCAL_DIR, VENV, Config
from .progress import Progress


def ensure_certificate(cfg: Config, progress: Progress) -> tuple[Path, Path]:
    """The certificate and key, made on the first run and reused after (openssl, else `cryptography`)."""
    cert, key = cfg.tls_dir / "gateway.crt", cfg.tls_dir / "gateway.key"
    if cert.exists() and key.exists():
        return cert, key
    cfg.tls_dir.mkdir(parents=True, exist_ok=True)
    with progress.step("Creating a self-signed TLS certificate"):
        if shutil.which("openssl"):
            run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "825",
                 "-subj", "/CN=localhost/O=Shop (development)", "-keyout", str(key), "-out", str(cert),
                 "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"], what="openssl req")
        else:
            run([str(VENV / "bin" / "python"), str(LOCAL_DIR / "selfsigned.py"), str(cert), str(key)],
                what="making the certificate with cryptography")
        key.chmod(0o600)
        progress.note(f"{cert} (trust it in your browser, or accept the warning once)")
    return cert, key
