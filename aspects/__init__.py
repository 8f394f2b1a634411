"""Guards: Aspects, cdk-nag packs and the acknowledgment registry (entry point: ``aspects.guard.guard``).

Kept free of imports so that light tools in this package (``python -m gates.cfn_lint``) start without CDK.
"""
