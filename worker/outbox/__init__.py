"""Outgoing mail: compose (pure), transports (SMTP, directory, memory), dispatch."""
