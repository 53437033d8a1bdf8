"""`make demo`: the main job on the embedded default.

Today it runs the attribution core over the sample events shipped in tagwarden/examples/events,
with the example rules and an offline directory standing in for IAM and ARM lookups, and prints
what tagwarden decides for every resource. Later steps put moto and a local ARM stand-in behind it.
"""
