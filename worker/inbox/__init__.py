"""Incoming mail: sources (IMAP, Maildir, memory), parse, match, strip quotes, classify, ingest."""
