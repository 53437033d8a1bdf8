"""The attribution ledger: the system of record of every decision and every usage sample.

Pure model and the store port live here; each store (SQLite locally, DynamoDB on AWS, Azure Table
Storage on Azure) is an adapter. Tags on resources are a display for people: the ledger decides.
"""
