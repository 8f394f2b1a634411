"""The environment's monthly cost budget, alerting the alerts topic on actual and forecast spend.

The tagging aspect's cost-allocation tags (Project, Environment, CostCenter) break the spend down in Cost Explorer
once activated in the billing console; the budget itself needs none of them.
"""

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
                # No tag filter: each environment is its own account, so the account's whole spend is the
                # environment's (a tag filter would miss untagged spend and count nothing until activated).
                budget_limit=budgets.CfnBudget.SpendProperty(amount=props.monthly_usd, unit="USD"),
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
