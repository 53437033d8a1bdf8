"""Every AWS guardrail for a rule set: which rules to prevent, each one's scope, the SCPs and
identity policies fitted to their limits, and the tag policy."""

from __future__ import annotations

from collections.abc import Sequence

from tagwarden.aws.catalogue import Entry
from tagwarden.guardrails.aws.options import SCP_LIMIT, AwsOptions
from tagwarden.guardrails.aws.packing import Fitted, fit
from tagwarden.guardrails.aws.preventable import Coverage, coverage
from tagwarden.guardrails.aws.report import AwsGuardrails
from tagwarden.guardrails.aws.scope import RuleScope, SkippedRule, scope_rule
from tagwarden.guardrails.aws.tag_policy import tag_policies
from tagwarden.guardrails.common import PREVENTIVE, GuardrailError, applies_on
from tagwarden.guardrails.iamdb import IamDatabase, default_database
from tagwarden.model import Provider
from tagwarden.rules.model import Mode, Rule, RuleSet


def build_aws(
    rules: RuleSet,
    options: AwsOptions | None = None,
    entries: Sequence[Entry] | None = None,
    db: IamDatabase | None = None,
) -> AwsGuardrails:
    """Every AWS guardrail for a rule set; raises DoesNotFit when nothing fits (or, with
    `strict`, when not everything does)."""
    options = options or AwsOptions()
    db = db or default_database()
    cov = coverage(entries, db, options.partition)
    scopes, skipped = _scopes(rules, options, cov)
    scps = fit(scopes, rules, options, db, min(options.scp_limit, SCP_LIMIT), options.max_scps, "SCPs")
    identity = fit(
        scopes, rules, options, db, options.identity_limit, options.max_identity_policies, "identity policies"
    )
    tag_docs, tag_notes = tag_policies(rules, cov)
    return AwsGuardrails(
        source=rules.source,
        scopes=tuple(scopes),
        skipped=tuple(skipped),
        coverage=cov,
        scps=scps,
        identity=identity,
        tag_policies=tuple(tag_docs),
        options=options,
        notes=tuple(_audit_note(rules, scps) + tag_notes),
    )


def _scopes(rules: RuleSet, options: AwsOptions, cov: Coverage) -> tuple[list[RuleScope], list[SkippedRule]]:
    """Each chosen rule's scope (earlier rules on AWS take their callers out), and the rules skipped."""
    candidates = (*rules.rules, rules.default_rule)
    _check_rule_ids(options, candidates)
    scopes: list[RuleScope] = []
    skipped: list[SkippedRule] = []
    for i, r in enumerate(candidates):
        if not _chosen(r, options):
            if options.rules is None and applies_on(r, Provider.AWS):
                skipped.append(
                    SkippedRule(r.id, f"on_missing is {r.on_missing.value}: the rule tolerates it")
                )
            continue
        earlier = [p for p in candidates[:i] if applies_on(p, Provider.AWS)]
        got = scope_rule(r, rules, cov, earlier, options.partition)
        if isinstance(got, RuleScope):
            scopes.append(got)
        else:
            skipped.append(got)
    return scopes, skipped


def _check_rule_ids(options: AwsOptions, candidates: Sequence[Rule]) -> None:
    if options.rules is not None:
        unknown = set(options.rules) - {r.id for r in candidates}
        if unknown:
            raise GuardrailError(f"no rule with id {', '.join(sorted(unknown))}")


def _chosen(rule: Rule, options: AwsOptions) -> bool:
    """The rules named in the options, or by default those whose on_missing a deny agrees with."""
    return rule.id in options.rules if options.rules is not None else rule.on_missing in PREVENTIVE


def _audit_note(rules: RuleSet, scps: Fitted) -> list[str]:
    if rules.mode is Mode.AUDIT and scps.policies:
        return ["the rules are in audit mode: SCPs deny, so attach them only after switching to enforce"]
    return []
