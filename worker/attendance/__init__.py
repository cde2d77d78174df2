"""Pure attendance rules: codes, best mark, Main School code, calendar, not-seen counting."""
