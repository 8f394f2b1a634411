@destructive
Feature: Planned switchover to the secondary region
  A planned move of the primary role (maintenance, a region evacuation) stops new writes, waits until the
  replica has replayed everything, and only then moves: no acknowledged write may be lost.

  Background:
    Given the service is up in both regions with us-east-1 active
    And clients are writing records through the global entry point

  Scenario: Switch over without losing a write
    When new writes are stopped
    And the us-east-2 replica has replayed every acknowledged write
    And us-east-1 is taken out of service
    And the us-east-2 replica is promoted
    Then traffic moves to us-east-2
    And no acknowledged write is missing from us-east-2
    And writes resume in us-east-2 within the RTO
