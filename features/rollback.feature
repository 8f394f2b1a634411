@lab_only
Feature: Rolling back a bad release
  A build whose requests fail must never take all of a region's traffic: the release controller judges
  the canary against the SLO and rolls back by itself, and an operator can roll back by hand.

  Background:
    Given the service is up in both regions with us-east-1 active
    And steady traffic reaches us-east-1

  Scenario: A bad green build is rolled back automatically
    When a build that fails its requests is released to us-east-1
    Then the release is rolled back because error_rate_5xx_percent failed
    And the live colour takes all of us-east-1's traffic again
    And the decision record states the metric, threshold, observed value and window

  Scenario: An operator rolls back by hand
    Given a good build takes 50 percent of us-east-1's traffic
    When the operator runs python -m ops rollback for us-east-1
    Then the live colour takes all of us-east-1's traffic again
