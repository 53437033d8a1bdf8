"""The shared event builders, for tests: they live in tagwarden_testing.events (the demo uses them too)."""

from tagwarden_testing.events import *  # noqa: F403
from tagwarden_testing.events import ACCOUNT, REGION, SUBSCRIPTION, TENANT, USER_OBJECT_ID  # noqa: F401
