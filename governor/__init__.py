"""governor: meter, pace, calibrate and route a Claude Code subscription's token budget."""

__version__ = "0.1.0"
