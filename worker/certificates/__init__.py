"""Attendance Certificates: content (pure), the amendment diff, and rendering (edge)."""

from worker.certificates.content import certificate_content, content_hash, school_hash
from worker.certificates.diff import diff

__all__ = ["certificate_content", "content_hash", "diff", "school_hash"]
