"""Test harness of docs/identity/sign.py (scripts/test-identity-snippets.sh): reads one user id per
line (a JSON string) and prints, per id, {"signature", "script"} as one line of JSON."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sign import identify_script, identity_signature  # noqa: E402

secret = os.environ["NPS_IDENTITY_SECRET"]
for line in sys.stdin.buffer:
    user_id = json.loads(line)
    out = {"signature": identity_signature(secret, user_id), "script": identify_script(user_id)}
    print(json.dumps(out))
