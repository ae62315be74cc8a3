"""One exception type for every failure a user can fix; the CLI prints its message, never a traceback."""


class SteervisError(Exception):
    """A problem with the user's input, environment or data, explained in one or two sentences."""
