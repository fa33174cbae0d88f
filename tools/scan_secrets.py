"""Fail if a committed (or about-to-be-committed) file holds something that looks like a credential.

    python -m tools.scan_secrets [PATH ...]

With no paths it scans every file git tracks or would track (untracked files that are not ignored).
Uses Yelp's detect-secrets with the plugins that recognise real credential formats, plus the
project's own (tools/secret_patterns.py). A line that must hold a look-alike on purpose carries
`pragma: allowlist secret`; sample values are obviously fake (`example-not-a-secret`) instead.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from detect_secrets import SecretsCollection
from detect_secrets.settings import transient_settings

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = [
    {"name": "AWSKeyDetector"},
    {"name": "ArtifactoryDetector"},
    {"name": "AzureStorageKeyDetector"},
    {"name": "BasicAuthDetector"},
    {"name": "DiscordBotTokenDetector"},
    {"name": "GitHubTokenDetector"},
    {"name": "GitLabTokenDetector"},
    {"name": "JwtTokenDetector"},
    {"name": "NpmDetector"},
    {"name": "OpenAIDetector"},
    {"name": "PrivateKeyDetector"},
    {"name": "PypiTokenDetector"},
    {"name": "SendGridDetector"},
    {"name": "SlackDetector"},
    {"name": "StripeDetector"},
    {"name": "TwilioKeyDetector"},
    {"name": "VaultTokenDetector", "path": f"file://{ROOT / 'tools' / 'secret_patterns.py'}"},
    {"name": "PagerDutyKeyDetector", "path": f"file://{ROOT / 'tools' / 'secret_patterns.py'}"},
    {"name": "CredentialUrlDetector", "path": f"file://{ROOT / 'tools' / 'secret_patterns.py'}"},
]
FILTERS = [
    {"path": "detect_secrets.filters.allowlist.is_line_allowlisted"},
    {"path": "detect_secrets.filters.heuristic.is_indirect_reference"},
    {"path": "detect_secrets.filters.heuristic.is_templated_secret"},
]


def repository_files(root: Path = ROOT) -> list[Path]:
    """Files git tracks, plus untracked files that are not ignored."""
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # noqa: S607
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [root / name for name in listing.split("\0") if name and (root / name).is_file()]


def scan(files: Iterable[Path]) -> list[tuple[str, int, str]]:
    """(file, line, kind) for every credential-looking string found."""
    collection = SecretsCollection()
    with transient_settings({"plugins_used": PLUGINS, "filters_used": FILTERS}):
        for path in files:
            collection.scan_file(str(path))
    return sorted((filename, secret.line_number, secret.type) for filename, secret in collection)


def main(argv: Sequence[str] | None = None) -> int:
    paths = [Path(arg) for arg in (argv if argv is not None else sys.argv[1:])]
    files = [f for p in paths for f in (sorted(p.rglob("*")) if p.is_dir() else [p]) if f.is_file()]
    findings = scan(files if paths else repository_files())
    for filename, line, kind in findings:
        print(f"{filename}:{line}: looks like a {kind}", file=sys.stderr)
    if findings:
        print(
            f"scan_secrets: {len(findings)} credential-looking string(s); remove them or use secure config",
            file=sys.stderr,
        )
        return 1
    print("scan_secrets: no credential-looking strings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
