@lab_only
Feature: The primary database restarts
  A reboot or a patch restarts the primary database. While it is down the service refuses writes with 503 (never
  a 500, never a hang), and once it is back writes resume by themselves, before the 5xx alarm's window ends,
  with no acknowledged write lost.

  Background:
    Given the service is up in both regions with us-east-1 active
    And clients are writing records through the global entry point

  Scenario: The us-east-1 database restarts under writes
    When the us-east-1 database restarts
    Then writes are refused with 503 while it is down and resume after it
    And no acknowledged write is missing from us-east-1
