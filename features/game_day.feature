@destructive @lab_only
Feature: Game day: the primary region is lost under load
  The load gate's user mix runs against the global entry point while us-east-1 is lost and the replica promoted.
  The failover must stay within the RTO and RPO, and cost at most the game day's share of the 30-day error
  budget (policies/slo.yaml: game_day_budget_share_percent): failed requests and seconds above the latency
  objective, counted while the event lasts.

  Background:
    Given the service is up in both regions with us-east-1 active
    And clients are writing records through the global entry point
    And the load gate's user mix runs against the global entry point

  Scenario: us-east-1 is lost while the load runs
    When us-east-1 is lost
    Then traffic moves to us-east-2
    When the us-east-2 replica is promoted
    Then writes resume in us-east-2 within the RTO
    And the acknowledged writes missing from us-east-2 are within the RPO
    And the failover cost at most the game day's share of the error budget
