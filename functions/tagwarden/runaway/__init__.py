"""Runaway agents: count what each agent creates and spends, alert on a crossing, apply a brake.

Pure core here (limits, windows, judgement, the alert message, the limiter over ports); the stores
(SQLite, DynamoDB, Azure Table) and the brakes (AWS IAM) are adapters behind `ports`.
"""
