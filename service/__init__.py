"""The records service: a small Flask API over PostgreSQL, deployed to ECS Fargate in both regions."""

from service.app import create_app

__all__ = ["create_app"]
