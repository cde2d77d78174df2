"""Commands of this group are registered on `worker.cli.cli`."""

from __future__ import annotations
