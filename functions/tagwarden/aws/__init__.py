"""AWS adapter: boto3 clients, taggers, IAM lookups, and the Lambda handler. Imports no Azure SDK."""
