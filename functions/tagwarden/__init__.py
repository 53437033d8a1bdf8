"""tagwarden: tag every cloud resource the moment it is created, or act on it.

The core (model, rules, normalize, attribution, plan) is pure and imports no cloud SDK;
the AWS and Azure adapters live in tagwarden.aws and tagwarden.azure.
"""

__version__ = "0.1.0"
