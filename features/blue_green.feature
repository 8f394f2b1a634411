@lab_only
Feature: Blue/green promotion of a good build
  A good build is shifted in steps, judged at each bake against the SLO, and promoted, with no failed
  request under steady traffic.

  Background:
    Given the service is up in both regions with us-east-1 active
    And steady traffic reaches us-east-1

  Scenario Outline: Promote a good build in steps
    When version <version> is released to us-east-1 in steps of <steps> percent
    Then the release is promoted
    And us-east-1 serves version <version> from the new live colour
    And no request failed during the release

    Examples:
      | version | steps      |
      | v2      | 10,100     |
      | v3      | 25,50,100  |
