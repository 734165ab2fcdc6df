"""Signs requests with botocore's own SigV4 signers, for comparison with VideoStackAWS's.

Reads a JSON list of requests on stdin and writes a JSON list of results on stdout. Each request:
{"method", "url", "headers": [[name, value], ...], "body_hex", "service", "region",
 "access_key", "secret_key", "token" (or null), "timestamp" ("YYYYmmddTHHMMSSZ"),
 "mode": "header" | "presign", "expires" (presign), "unsigned_payload" (S3 header mode)}.
Each result: {"canonical_request", "string_to_sign", "headers": [[name, value], ...], "url"}.
"""
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def recording(base):
    class Recording(base):
        def canonical_request(self, request):
            self.recorded_canonical = super().canonical_request(request)
            return self.recorded_canonical

        def string_to_sign(self, request, canonical_request):
            self.recorded_sts = super().string_to_sign(request, canonical_request)
            return self.recorded_sts

    return Recording


def sign(spec):
    when = datetime.datetime.strptime(spec["timestamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    botocore.auth.get_current_datetime = lambda *args, **kwargs: when
    credentials = Credentials(spec["access_key"], spec["secret_key"], spec.get("token"))
    s3 = spec["service"] == "s3"
    if spec["mode"] == "presign":
        base = botocore.auth.S3SigV4QueryAuth if s3 else botocore.auth.SigV4QueryAuth
        signer = recording(base)(credentials, spec["service"], spec["region"], expires=spec["expires"])
    else:
        base = botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth
        signer = recording(base)(credentials, spec["service"], spec["region"])
    request = AWSRequest(method=spec["method"], url=spec["url"], data=bytes.fromhex(spec.get("body_hex", "")))
    for name, value in spec["headers"]:
        request.headers[name] = value  # appends: repeated names stay repeated
    if spec.get("unsigned_payload"):
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    signer.add_auth(request)
    return {
        "canonical_request": signer.recorded_canonical,
        "string_to_sign": signer.recorded_sts,
        "headers": [[k, v] for k, v in request.headers.items()],
        "url": request.url,
    }


json.dump([sign(spec) for spec in json.load(sys.stdin)], sys.stdout)
