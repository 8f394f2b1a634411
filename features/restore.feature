@lab_only
Feature: Point-in-time restore of the primary database
  A base backup and the archived transaction log restore the primary's database as it was at a chosen moment, into
  a new instance beside it (RDS restores into a new instance too: docs/runbooks/restore.md). Every write
  acknowledged before that moment must be there, and none after it.

  Background:
    Given the service is up in both regions with us-east-1 active

  Scenario: Restore the us-east-1 database to a point in time
    Given a base backup of the us-east-1 database
    And writes acknowledged before a restore point
    And writes acknowledged after the restore point
    When the us-east-1 database is restored to the restore point into a new instance
    Then every write acknowledged before the restore point is there and none after it
