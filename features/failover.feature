@destructive
Feature: Unplanned loss of the primary region
  When us-east-1 is lost, the secondary region takes over: traffic moves to us-east-2, its replica is
  promoted and writes resume there, within the RTO and RPO in policies/slo.yaml.

  Background:
    Given the service is up in both regions with us-east-1 active
    And clients are writing records through the global entry point

  Scenario: The primary region is lost
    When us-east-1 is lost
    Then traffic moves to us-east-2
    When the us-east-2 replica is promoted
    Then writes resume in us-east-2 within the RTO
    And the acknowledged writes missing from us-east-2 are within the RPO
