"""X-Ray tracing of the Lambda handlers (Powertools Tracer), switchable without a redeploy of code.

Constructing a Powertools `Tracer` imports the X-Ray SDK even when tracing is disabled, so it is
constructed only when tracing is on: with POWERTOOLS_TRACE_DISABLED true (the template's `Tracing:
Disabled`) or outside Lambda, nothing of aws_xray_sdk is imported and the handlers are unwrapped.
When on, each invocation is a `## handler` subsegment (an error captured as metadata) and
botocore is patched, so every AWS call (tag writes, lookups, the ledger) is a subsegment of it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])

# Only botocore: the handlers make no other calls worth a subsegment (requests/httplib are the
# Teams webhook, rare), and patching fewer modules costs less at cold start.
PATCHED = ("botocore",)
DISABLED_ENV = "POWERTOOLS_TRACE_DISABLED"


def enabled(env: dict[str, str] | None = None) -> bool:
    """Tracing is on in Lambda unless POWERTOOLS_TRACE_DISABLED is truthy (Powertools' own rule)."""
    env = dict(os.environ) if env is None else env
    if not env.get("LAMBDA_TASK_ROOT") or env.get("AWS_SAM_LOCAL"):
        return False  # no X-Ray daemon listens outside Lambda
    return env.get(DISABLED_ENV, "false").strip().lower() not in ("1", "true", "yes", "on", "y", "t")


def tracer(service: str) -> Tracer | None:
    """The Tracer (botocore patched), or None when tracing is off: then X-Ray is never imported."""
    if not enabled():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=service, patch_modules=PATCHED)


def traced(tracer: Tracer | None) -> Callable[[Handler], Handler]:
    """Decorator: the handler captured as a subsegment, or returned unchanged without a tracer."""

    def wrap(handler: Handler) -> Handler:
        if tracer is None:
            return handler
        # Not the response: it names every resource, actor and tag of a delivery (the logs have
        # them), and a batch's would outgrow a segment. Errors are captured.
        return cast("Handler", tracer.capture_lambda_handler(handler, capture_response=False))

    return wrap
