"""Signed identity for the NPS survey, on a Python server."""

import hashlib
import hmac
import json
import os


def identity_signature(secret: str, user_id: str) -> str:
    """Lowercase hex HMAC-SHA256(secret, user_id): the `signature` the edge checks."""
    key = secret.encode("utf-8")
    return hmac.new(key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()


def identify_script(user_id: str) -> str:
    """The <script> that tells the survey who the signed-in user is; render it into the page."""
    secret = os.environ["NPS_IDENTITY_SECRET"]  # the edge's identity_secret: server only
    user = {"id": user_id, "signature": identity_signature(secret, user_id)}
    # JSON-encoded, and `<` escaped so that no value can end the script element.
    payload = json.dumps(user).replace("<", "\\u003c")
    return f"<script>nps('identify', {payload});</script>"
