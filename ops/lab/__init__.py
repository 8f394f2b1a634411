"""The local two-region lab: real processes on 127.0.0.1 standing in for the AWS pieces the drills exercise.

    front HAProxy (Route 53 failover stand-in: primary region, backup region, HTTP health checks)
    per region: HAProxy (the ALB stand-in; blue/green weights through its runtime API) over two gunicorns
    PostgreSQL primary (us-east-1) streaming to a standby (us-east-2): RDS and its cross-region replica
"""
