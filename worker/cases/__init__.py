"""Not-seen cases: the state machine, escalation, digests, prompts."""
