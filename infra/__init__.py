"""The CDK app that deploys Muster Costs into a customer account (``cdk deploy``; ``make synth`` checks it)."""
