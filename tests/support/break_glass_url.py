"""The broker's function URL on 127.0.0.1: AWS_IAM auth checked like Lambda does, then the real handler.

Lambda verifies the SigV4 signature (service `lambda`) and puts the signer's ARN in
`requestContext.authorizer.iam.userArn`. This server knows a few test credentials (access key -> secret
key and the role-session ARN they stand for), recomputes each request's signature with botocore, refuses
a missing or wrong one with 403 as Lambda does, and hands the event to `handle_url`. Differences from the
real thing: no clock-skew window, no lambda:InvokeFunctionUrl policy evaluation (that is IAM's, checked
in the component's tests), HTTP instead of HTTPS.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambdas.break_glass_broker.broker import Broker
from lambdas.break_glass_broker.handler import handle_url

REGION = "us-east-1"
_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/[^,]+, SignedHeaders=([^,]+), Signature=([0-9a-f]+)")


@dataclass
class FunctionUrl:
    broker: Broker
    identities: dict[str, tuple[str, str]] = field(default_factory=dict)  # access key -> (secret, arn)

    def start(self) -> FunctionUrl:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                arn = outer.verify(self.command, self.path, dict(self.headers.items()), body)
                if arn is None:
                    self._send(403, {"Message": "Forbidden"})
                    return
                path, _, query = self.path.partition("?")
                event = {
                    "rawPath": path,
                    "queryStringParameters": dict(p.split("=", 1) for p in query.split("&") if "=" in p),
                    "body": body,
                    "isBase64Encoded": False,
                    "requestContext": {
                        "http": {"method": self.command},
                        "authorizer": {"iam": {"userArn": arn}},
                    },
                }
                answer = handle_url(outer.broker, event)
                self._send(answer["statusCode"], json.loads(answer["body"]))

            def _send(self, status: int, document: Any) -> None:
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def verify(self, method: str, path: str, headers: dict[str, str], body: str) -> str | None:
        """The signer's ARN if the SigV4 signature is right for a known key, else None."""
        match = _AUTH.fullmatch(headers.get("Authorization", ""))
        if not match or match[1] not in self.identities:
            return None
        secret, arn = self.identities[match[1]]
        lowered = {name.lower(): value for name, value in headers.items()}
        signed = {name: lowered.get(name, "") for name in match[2].split(";")}
        request = AWSRequest(method=method, url=f"{self.url}{path}", data=body or None, headers=signed)
        request.context["timestamp"] = lowered.get("x-amz-date", "")
        signer = SigV4Auth(
            Credentials(match[1], secret, lowered.get("x-amz-security-token")), "lambda", REGION
        )
        expected = signer.signature(
            signer.string_to_sign(request, signer.canonical_request(request)), request
        )
        return arn if expected == match[3] else None
