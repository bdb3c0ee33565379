"""Exports for partners and the public: EPCIS 2.0 events, FSMA 204 lot spreadsheets, and
the open-data inspection dataset. Read-only; every item links to its proof bundle."""
