"""Input we cannot read at all (as opposed to events we deliberately skip)."""


class MalformedEvent(ValueError):
    """The input is not an event we know how to read; the message says what was expected."""
