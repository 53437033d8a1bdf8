"""Azure adapter: ARM calls through the Azure SDK (azure-mgmt-resource); imports no boto3."""
