"""The project's own sample data set and reply builder, for the README demo and portable tests.

`generate.generate_sample` writes a small, invented spring-term data set in exactly the layouts
of the Arbor exports and roster files; `replies.build_reply` makes the raw replies a Main School
would send. Neither needs `../shared`, which is not on a user's machine.
"""

from __future__ import annotations

from worker.demo.generate import SampleInfo, generate_sample
from worker.demo.replies import build_reply

__all__ = ["SampleInfo", "build_reply", "generate_sample"]
