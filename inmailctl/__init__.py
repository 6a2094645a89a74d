"""inmailctl: plan, track and simulate LinkedIn InMail credits from the command line."""

__version__ = "0.1.0"
