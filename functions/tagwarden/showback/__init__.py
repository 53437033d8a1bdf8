"""Showback: the ledger joined with the cloud bill (FOCUS), every cent in exactly one bucket."""
