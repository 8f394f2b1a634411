"""The environment's monthly cost budget, alerting the alerts topic on actual and forecast spend."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_budgets as budgets
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class BudgetProps:
    name: str
    monthly_usd: int
    actual_alert_percent: int
    forecast_alert_percent: int
    topic_arn: str
    # Cost-allocation tag set by the tagging aspect (activate it once in the billing console of the account).
    project_tag: str


class CostBudget(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: BudgetProps) -> None:
        super().__init__(scope, id_)
        subscriber = budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=props.topic_arn)
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=props.name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=props.monthly_usd, unit="USD"),
                cost_filters={"TagKeyValue": [f"user:Project${props.project_tag}"]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind,
                        comparison_operator="GREATER_THAN",
                        threshold=percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[subscriber],
                )
                for kind, percent in (
                    ("ACTUAL", props.actual_alert_percent),
                    ("FORECASTED", props.forecast_alert_percent),
                )
            ],
        )
