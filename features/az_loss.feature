@lab_only
Feature: Losing one of a region's app servers
  A region serves from more than one server (on AWS, tasks spread over two availability zones). When one dies,
  the load balancer's health checks take it out and the other carries on: no request may fail once the
  health-check window has passed, and the load balancer's retries should keep even that window clean.

  Background:
    Given the service is up in both regions with us-east-1 active
    And us-east-1 serves from two app servers
    And steady traffic reaches us-east-1

  Scenario: One of the two app servers of us-east-1 is lost
    When one of us-east-1's app servers dies
    Then no request fails beyond the health-check window
