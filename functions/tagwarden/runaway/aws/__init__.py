"""The runaway store on AWS (DynamoDB)."""
