"""Food-safety rules: jurisdiction profiles (data) and the probe rule engine."""
