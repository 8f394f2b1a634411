@lab_only
Feature: The cache is unavailable
  The cache only speeds reads up. When it goes away the service reads from the database instead: no read fails,
  and reads stay within the latency objective.

  Background:
    Given the service is up in both regions with us-east-1 active
    And reads of one record through us-east-1 are served from its cache

  Scenario: The us-east-1 cache is lost
    When the us-east-1 cache stops
    Then reads of that record keep succeeding within the latency objective
