"""A probe simulator: realistic kitchen temperature curves, signed like real devices, sent over
HTTP or MQTT (``sunledger simulate probes``)."""
