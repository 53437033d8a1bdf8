"""`make demo`: the main job on the embedded default.

Today it runs the attribution core over the sample events shipped in tagwarden/examples/events,
with the example rules and an offline directory standing in for IAM and ARM lookups, and prints
what tagwarden decides for every resource. Later steps put moto and a local ARM stand-in behind it.
"""

import os

DEMO_LEDGER = ".tagwarden/demo-ledger.sqlite"


def ledger_path() -> str:
    """Where the demo records every decision: TAGWARDEN_LEDGER, else a local SQLite file that
    `tagwarden ledger show --ledger .tagwarden/demo-ledger.sqlite` (and showback) read afterwards."""
    return os.environ.get("TAGWARDEN_LEDGER") or DEMO_LEDGER
