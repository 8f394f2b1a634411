@destructive
Feature: Planned switchover to the secondary region
  A planned move of the primary role (maintenance, a region evacuation) pauses writes with the service's
  read_only flag, waits until the replica has replayed everything, and only then moves: no acknowledged write
  may be lost. The steps are docs/runbooks/replica-promotion.md's, in its order.

  Background:
    Given the service is up in both regions with us-east-1 active
    And clients are writing records through the global entry point

  Scenario: Switch over without losing a write
    When writes are paused with the read_only flag
    Then every write is refused with 503 while the flag is set
    When the us-east-2 replica has replayed every acknowledged write
    And us-east-1 is taken out of service
    And the us-east-2 replica is promoted
    Then traffic moves to us-east-2
    And no acknowledged write is missing from us-east-2
    When the read_only flag is cleared
    Then no write was acknowledged while writes were paused
    And writes resume in us-east-2 within the RTO
