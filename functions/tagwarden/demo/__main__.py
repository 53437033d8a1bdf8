import sys

from tagwarden.demo import aws, azure, lifecycle

code = aws.run()
print()
code |= lifecycle.run()
print()
code |= azure.run()
sys.exit(code)
