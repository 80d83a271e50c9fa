"""The few sizes that arguments of a user-chosen size are padded to before a compiled call.

``jax.jit`` compiles one program per input shape. A size that follows the user — a path of 301 points, then
302; a typed formula of 17 instructions; 3 trajectories — would compile a program for every value it takes.
Padded up to one of a few sizes, it reuses the program compiled for that size; the padding is computed and
dropped. The runner's step counts, the interpreter's program lengths, the runner's trajectory counts and
the rows of ``surfaces.losses``/``gradients`` all come through here.
"""
from __future__ import annotations

from collections.abc import Sequence


def smallest_size(n: int, sizes: Sequence[int], what: str) -> int:
    """The smallest of ``sizes`` (ascending) that holds ``n``; ``ValueError`` naming ``what`` if none does."""
    for size in sizes:
        if n <= size:
            return size
    raise ValueError(f"{what} must be at most {sizes[-1]:,}, got {n:,}")


def power_of_two(n: int, least: int = 1) -> int:
    """The smallest power of two that is ≥ ``n`` and ≥ ``least``: ``power_of_two(5, 4) == 8``."""
    return max(least, 1 << max(int(n) - 1, 0).bit_length())
