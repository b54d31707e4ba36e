"""One CloudWatch dashboard per blueprint, from the metric definitions the alarms read (sdk.constructs.metrics)."""

from sdk.constructs.engine import CloudwatchDashboard, Construct
from sdk.constructs.metrics import Widget, dashboard_body, dashboard_url
from sdk.constructs.outputs import stable_output
from sdk.constructs.structs import new


class Dashboard(Construct):
    """`.dashboard` (named `name`) and `.url`, also the stable output `<blueprint>_dashboard_url`."""

    def __init__(self, scope: Construct, id_: str, *, name: str, region: str, widgets: list[Widget]) -> None:
        super().__init__(scope, id_)
        self.dashboard = new(
            CloudwatchDashboard, self, "dashboard", dashboard_name=name, dashboard_body=dashboard_body(widgets, region)
        )
        self.url = dashboard_url(region, name)
        stable_output(
            self,
            "dashboard_url",
            value=self.url,
            description=f"CloudWatch dashboard of {name}",
            named_after=scope,
        )
