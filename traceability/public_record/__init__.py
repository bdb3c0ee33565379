"""What anyone may see of a premises (the sunshine record) and of a received lot."""
