@destructive @lab_only
Feature: Replication stalls, then the primary region is lost
  The replica stops receiving changes while writes continue, and then us-east-1 is lost. Everything written since
  the stall is gone after the failover: the drill measures that loss in writes and seconds and fails when it is
  more than the RPO in policies/slo.yaml allows.

  Background:
    Given the service is up in both regions with us-east-1 active
    And clients are writing records through the global entry point

  Scenario: The primary region is lost after replication stalled
    When replication to us-east-2 stalls for 3 seconds of writes
    And us-east-1 is lost
    Then traffic moves to us-east-2
    When the us-east-2 replica is promoted
    Then writes resume in us-east-2 within the RTO
    And the acknowledged writes missing from us-east-2 are within the RPO
    And the missing writes are those acknowledged after the stall
