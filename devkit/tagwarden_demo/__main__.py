import sys

from tagwarden_demo import aws, azure, lifecycle, runaway

code = aws.run()
print()
code |= lifecycle.run()
print()
code |= azure.run()
print()
code |= runaway.run()
print()
from importlib import resources  # noqa: E402

from tagwarden.guardrails import guardrail_summary  # noqa: E402
from tagwarden.rules import load_rules  # noqa: E402

with resources.as_file(resources.files("tagwarden") / "examples" / "rules.yaml") as rules:
    print(guardrail_summary(load_rules(rules, env={})))
sys.exit(code)
