import sys

from tagwarden.demo import aws, offline

code = aws.run()
print("\nAzure (offline: sample Event Grid events through the same rules; ARM stand-in to come)\n")
code |= offline.run(prefix="azure-")
sys.exit(code)
