Feature: Regional traffic failover and failback
  The global entry point follows the health checks: when us-east-1 stops answering them, traffic moves to
  us-east-2 without anyone touching DNS, and it comes back once us-east-1 answers again. No database is promoted,
  so this drill runs against staging on every release (the failover and switchover drills promote the replica
  and run only when asked for with --destructive).

  Background:
    Given the service is up in both regions with us-east-1 active

  Scenario: Traffic leaves an unhealthy region and comes back
    When us-east-1 is taken out of service
    Then traffic moves to us-east-2
    When us-east-1 is restored
    Then traffic moves to us-east-1
    And the service is up in both regions
