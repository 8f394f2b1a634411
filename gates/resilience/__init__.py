"""The RTO/RPO budget of a region loss, judged from the synthesized templates before anything deploys."""
