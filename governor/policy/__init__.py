"""Pure decisions: pricing, pacing and its messages, calibration, routing, the memory cap.

No I/O and no clock reads: plain data in, decisions out. Imports only the flat core."""
