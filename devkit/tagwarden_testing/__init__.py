"""Test and demo support: event builders and local emulator harnesses (not used by the handlers)."""
