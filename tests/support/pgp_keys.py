"""Real OpenPGP keys made at test time with the system's gpg (through python-gnupg), in a throwaway
keyring: public keys in the form Vault's `recovery_pgp_keys` takes (base64 of the binary key), and
decryption of what Vault encrypted to them."""

from __future__ import annotations

import base64
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import gnupg  # type: ignore[import-untyped]


class PgpUnavailable(RuntimeError):
    """No gpg binary: the PGP tests cannot make real keys."""


@dataclass
class Keyring:
    home: Path
    fingerprints: list[str] = field(default_factory=list)
    public_keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if shutil.which("gpg") is None:
            raise PgpUnavailable("the PGP recovery-share tests need the `gpg` binary (Debian package gnupg)")
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.gpg = gnupg.GPG(gnupghome=str(self.home))

    def generate(self, email: str) -> str:
        """A new RSA key pair without a passphrase; returns its public key as Vault wants it."""
        request = self.gpg.gen_key_input(
            key_type="RSA",
            key_length=2048,
            name_real="Candlefish test operator",
            name_email=email,
            no_protection=True,
            expire_date="1d",
        )
        made = self.gpg.gen_key(request)
        if not made.fingerprint:
            raise PgpUnavailable(f"gpg could not make a key: {made.stderr[-400:]}")
        self.fingerprints.append(str(made.fingerprint))
        public = base64.b64encode(self.gpg.export_keys(str(made.fingerprint), armor=False)).decode()
        self.public_keys.append(public)
        return public

    def decrypt(self, share_b64: str) -> bytes:
        """Decrypt one share Vault encrypted to a key of this keyring."""
        result = self.gpg.decrypt(base64.b64decode(share_b64))
        if not result.ok:
            raise AssertionError(f"gpg could not decrypt the share: {result.status}")
        return bytes(result.data)
