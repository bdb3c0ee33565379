"""Official inspections by regulators and the annual grades that follow from them."""
