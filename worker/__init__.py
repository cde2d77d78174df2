"""attendance-courier: attendance certificates and the not-seen procedure for a medical-needs education service."""

__version__ = "0.1.0"
