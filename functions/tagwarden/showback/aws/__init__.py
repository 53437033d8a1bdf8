"""Showback's AWS adapters: S3 prefixes read with boto3, Athena queried through pyathena."""
