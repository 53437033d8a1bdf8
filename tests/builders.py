"""The shared event builders, for tests: they live in tagwarden.testing.events (the demo uses them too)."""

from tagwarden.testing.events import *  # noqa: F403
from tagwarden.testing.events import ACCOUNT, REGION, SUBSCRIPTION, TENANT, USER_OBJECT_ID  # noqa: F401
