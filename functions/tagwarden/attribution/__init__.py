"""Attribution's vocabulary: what a derivation source sees (context), where values come from
(sources, paths), the cloud's tag limits and user patterns (RE2). Pure, and below the rules: the
rules file names these, and `tagwarden.decide` applies the compiled rules with them."""
