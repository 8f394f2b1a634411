"""CDK stacks and constructs for the records service, one unit per file."""
