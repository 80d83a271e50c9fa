"""Shared test helpers."""
import logging

import jax
import pytest


class CompileCounter(logging.Handler):
    """Collects JAX's "Compiling <name>" log lines (all of them, or those naming ``name``)."""

    def __init__(self, name: str | None):
        super().__init__(logging.DEBUG)
        self.name = name
        self.messages = []

    def emit(self, record):
        msg = record.getMessage()
        if "Compiling" in msg and (self.name is None or self.name in msg):
            self.messages.append(msg)


@pytest.fixture
def count_compiles():
    """count_compiles(fn, name="_scan_trajectories") -> how many compilations calling fn caused (name=None: any)."""

    def count(fn, name: str | None = "_scan_trajectories") -> int:
        handler = CompileCounter(name)
        logger = logging.getLogger("jax")
        logger.addHandler(handler)
        try:
            with jax.log_compiles(True):
                fn()
        finally:
            logger.removeHandler(handler)
        return len(handler.messages)

    return count


def plain(markdown: str) -> str:
    """Markdown source with CommonMark's backslash escapes removed: the text a reader sees."""
    import re

    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)
