import sys

from tagwarden.demo import aws, azure

code = aws.run()
print()
code |= azure.run()
sys.exit(code)
