"""What the rehearsal reads back from the emulator after apply (what matters once deployed), and what it finds
left after destroy."""

import json
from collections.abc import Callable, Iterator
from typing import Any

from sdk.tfjson import resources

Client = Callable[[str], Any]
State = dict[str, dict[str, Any]]  # address -> attribute values (terraform show -json)


def state_resources(show: dict[str, Any]) -> State:
    """address -> values of every managed resource in `terraform show -json` output."""
    found: State = {}

    def walk(module: dict[str, Any]) -> None:
        for resource in module.get("resources", []):
            if resource.get("mode") == "managed":
                found[resource["address"]] = resource.get("values", {})
        for child in module.get("child_modules", []):
            walk(child)

    walk(show.get("values", {}).get("root_module", {}))
    return found


def of_type(tf: dict[str, Any], type_: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, config in resources(tf, type_).items():
        yield f"{type_}.{name}", config


def literal(value: Any) -> bool:
    """A configured value with no Terraform expression in it (comparable before apply)."""
    return "${" not in json.dumps(value)


def check_deployed(tf: dict[str, Any], state: State, client: Client) -> tuple[int, list[str]]:
    """(checks passed, failures): each failure names the resource and what differs."""
    failures: list[str] = []
    passed = 0
    for check in CHECKS:
        for address, problem in check(tf, state, client):
            if problem:
                failures.append(f"{address}: {problem}")
            else:
                passed += 1
    return passed, failures


Finding = Iterator[tuple[str, str | None]]


def ecs_services(tf: dict[str, Any], state: State, client: Client) -> Finding:
    ecs = client("ecs")
    for address, _config in of_type(tf, "aws_ecs_service"):
        values = state[address]
        found = ecs.describe_services(cluster=values["cluster"], services=[values["name"]])["services"][0]
        want = sorted(s["capacity_provider"] for s in values.get("capacity_provider_strategy") or [])
        got = sorted(s["capacityProvider"] for s in found.get("capacityProviderStrategy", []))
        yield address, None if want and want == got else f"capacity provider strategy {got}, expected {want}"
        if found.get("launchType") not in (None, "", "EC2") or (want and found.get("launchType") == "FARGATE"):
            yield address, f"launch type {found.get('launchType')} beside a capacity provider strategy"
        task = found["taskDefinition"]
        yield (
            address,
            None if task == values["task_definition"] else f"runs {task}, expected {values['task_definition']}",
        )


def task_definitions(tf: dict[str, Any], state: State, client: Client) -> Finding:
    ecs = client("ecs")
    for address, config in of_type(tf, "aws_ecs_task_definition"):
        registered = ecs.describe_task_definition(taskDefinition=state[address]["arn"])["taskDefinition"]
        emitted = json.loads(config["container_definitions"]) if literal(config["container_definitions"]) else None
        if emitted is None:  # references inside: compare what Terraform resolved, field by field
            emitted = json.loads(state[address]["container_definitions"])
        for want, got in zip(emitted, registered["containerDefinitions"], strict=False):
            diff = sorted(k for k, v in want.items() if got.get(k) != v)
            yield f"{address}[{want['name']}]", f"registered differs in {diff}" if diff else None
        if len(emitted) != len(registered["containerDefinitions"]):
            yield address, f"{len(registered['containerDefinitions'])} containers registered, {len(emitted)} emitted"


def autoscaling_groups(tf: dict[str, Any], state: State, client: Client) -> Finding:
    autoscaling = client("autoscaling")
    for address, _config in of_type(tf, "aws_autoscaling_group"):
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[state[address]["name"]])
        found = group["AutoScalingGroups"][0]
        tags = {t["Key"]: t["Value"] for t in found.get("Tags", [])}
        managed = tags.get("AmazonECSManaged") == "true"
        yield address, None if managed else "no AmazonECSManaged=true tag (ECS managed scaling needs it)"
        protected = found.get("NewInstancesProtectedFromScaleIn") is True
        yield address, None if protected else "new instances not protected from scale-in (managed termination)"


def queues(tf: dict[str, Any], state: State, client: Client) -> Finding:
    sqs = client("sqs")
    arns = {values.get("arn"): values for values in state.values() if "arn" in values}
    for address, config in of_type(tf, "aws_sqs_queue"):
        if "redrive_policy" not in config:
            continue
        attributes = sqs.get_queue_attributes(QueueUrl=state[address]["url"], AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes.get("RedrivePolicy", "{}"))
        dlq = arns.get(redrive.get("deadLetterTargetArn"))
        yield address, None if dlq is not None else f"redrive target {redrive.get('deadLetterTargetArn')} not in stack"
        want = json.loads(state[address]["redrive_policy"])["maxReceiveCount"]
        got = redrive.get("maxReceiveCount")
        yield address, None if got == want else f"maxReceiveCount {got}, expected {want}"


def alarms(tf: dict[str, Any], state: State, client: Client) -> Finding:
    cloudwatch = client("cloudwatch")
    for address, config in of_type(tf, "aws_cloudwatch_metric_alarm"):
        found = cloudwatch.describe_alarms(AlarmNames=[state[address]["alarm_name"]])["MetricAlarms"]
        if not found:
            yield address, "alarm not found"
            continue
        alarm = found[0]
        if "metric_query" in config:
            want = sorted((q["id"], q.get("expression") or "") for q in state[address]["metric_query"] or [])
            got = sorted((m["Id"], m.get("Expression") or "") for m in alarm.get("Metrics", []))
            yield address, None if want == got else f"metric math {got}, expected {want}"
        actions = sorted(state[address].get("alarm_actions") or [])
        yield address, None if sorted(alarm.get("AlarmActions", [])) == actions else "alarm actions differ"


def listeners(tf: dict[str, Any], state: State, client: Client) -> Finding:
    elbv2 = client("elbv2")
    for address, _config in of_type(tf, "aws_lb_listener"):
        values = state[address]
        found = elbv2.describe_listeners(ListenerArns=[values["arn"]])["Listeners"][0]
        if values.get("protocol") != "HTTPS":
            continue
        policy = found.get("SslPolicy")
        yield (
            address,
            None if policy == values["ssl_policy"] else f"TLS policy {policy}, expected {values['ssl_policy']}",
        )
        certificates = [c["CertificateArn"] for c in found.get("Certificates", [])]
        yield address, None if values["certificate_arn"] in certificates else f"certificate {certificates}"


def iam_roles(tf: dict[str, Any], state: State, client: Client) -> Finding:
    iam = client("iam")
    for address, _config in of_type(tf, "aws_iam_role_policy_attachment"):
        values = state[address]
        attached = iam.list_attached_role_policies(RoleName=values["role"])["AttachedPolicies"]
        arns = [p["PolicyArn"] for p in attached]
        yield (
            address,
            None if values["policy_arn"] in arns else f"{values['policy_arn']} not attached to {values['role']}",
        )
    for address, _config in of_type(tf, "aws_iam_role_policy"):
        values = state[address]
        role = values["role"].rsplit("/", 1)[-1]
        document = iam.get_role_policy(RoleName=role, PolicyName=values["name"])["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        same = document == json.loads(values["policy"])
        yield address, None if same else f"inline policy {values['name']} on {role} differs from the emitted one"


def http_apis(tf: dict[str, Any], state: State, client: Client) -> Finding:
    """Each route's auth and scopes, and each stage's default and per-route throttles, as deployed."""
    api = client("apigatewayv2")
    for address, _config in of_type(tf, "aws_apigatewayv2_route"):
        values = state[address]
        found = api.get_route(ApiId=values["api_id"], RouteId=values["id"])
        got = (found.get("AuthorizationType"), sorted(found.get("AuthorizationScopes") or []))
        want = (values["authorization_type"], sorted(values.get("authorization_scopes") or []))
        yield address, None if got == want else f"auth {got}, expected {want}"
    for address, _config in of_type(tf, "aws_apigatewayv2_stage"):
        values = state[address]
        found = api.get_stage(ApiId=values["api_id"], StageName=values["name"])
        yield address, _throttles(found, values)


def _throttles(found: dict[str, Any], values: dict[str, Any]) -> str | None:
    def pair(settings: dict[str, Any], rate: str, burst: str) -> tuple[float, int]:
        return float(settings.get(rate) or 0), int(settings.get(burst) or 0)

    default = (values.get("default_route_settings") or [{}])[0]
    want = {"": pair(default, "throttling_rate_limit", "throttling_burst_limit")}
    want |= {
        r["route_key"]: pair(r, "throttling_rate_limit", "throttling_burst_limit")
        for r in values.get("route_settings") or []
    }
    got = {"": pair(found.get("DefaultRouteSettings") or {}, "ThrottlingRateLimit", "ThrottlingBurstLimit")}
    got |= {
        key: pair(r, "ThrottlingRateLimit", "ThrottlingBurstLimit")
        for key, r in (found.get("RouteSettings") or {}).items()
    }
    return None if got == want else f"throttles {got}, expected {want}"


CHECKS: tuple[Callable[[dict[str, Any], State, Client], Finding], ...] = (
    ecs_services,
    task_definitions,
    autoscaling_groups,
    queues,
    alarms,
    listeners,
    iam_roles,
    http_apis,
)


def inventory(client: Client) -> set[str]:
    """Everything a stack could leave behind, as `kind:id`; the default VPC and AWS-managed things excluded."""
    ec2 = client("ec2")
    found: set[str] = set()
    vpcs = [v for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    found |= {f"vpc:{v['VpcId']}" for v in vpcs}
    found |= {f"subnet:{s['SubnetId']}" for s in ec2.describe_subnets()["Subnets"] if not s.get("DefaultForAz")}
    found |= {
        f"security-group:{g['GroupId']}"
        for g in ec2.describe_security_groups()["SecurityGroups"]
        if g["GroupName"] != "default"
    }
    found |= {f"launch-template:{t['LaunchTemplateName']}" for t in ec2.describe_launch_templates()["LaunchTemplates"]}
    found |= {f"nat:{n['NatGatewayId']}" for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"}
    found |= {f"eip:{a['AllocationId']}" for a in ec2.describe_addresses()["Addresses"]}
    endpoints = ec2.describe_vpc_endpoints()["VpcEndpoints"]
    found |= {f"vpc-endpoint:{e['VpcEndpointId']}" for e in endpoints if e["State"].lower() != "deleted"}
    found |= {f"flow-log:{f['FlowLogId']}" for f in ec2.describe_flow_logs()["FlowLogs"]}
    found |= {
        f"instance:{i['InstanceId']}"
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    }
    groups = client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    found |= {f"asg:{g['AutoScalingGroupName']}" for g in groups}
    ecs = client("ecs")
    found |= {
        f"ecs-cluster:{arn}"
        for arn in ecs.list_clusters()["clusterArns"]
        if ecs.describe_clusters(clusters=[arn])["clusters"][0]["status"] == "ACTIVE"
    }
    found |= {
        f"capacity-provider:{p['name']}"
        for p in ecs.describe_capacity_providers()["capacityProviders"]
        if p["name"] not in ("FARGATE", "FARGATE_SPOT") and p.get("status") != "INACTIVE"
    }
    iam = client("iam")
    found |= {
        f"iam-role:{r['RoleName']}" for r in iam.list_roles()["Roles"] if not r["Path"].startswith("/aws-service-role/")
    }
    found |= {f"iam-policy:{p['PolicyName']}" for p in iam.list_policies(Scope="Local")["Policies"]}
    found |= {f"instance-profile:{p['InstanceProfileName']}" for p in iam.list_instance_profiles()["InstanceProfiles"]}
    found |= {f"queue:{url.rsplit('/', 1)[-1]}" for url in client("sqs").list_queues().get("QueueUrls", [])}
    found |= {f"table:{t}" for t in client("dynamodb").list_tables()["TableNames"]}
    found |= {f"bucket:{b['Name']}" for b in client("s3").list_buckets()["Buckets"]}
    found |= {f"log-group:{g['logGroupName']}" for g in client("logs").describe_log_groups()["logGroups"]}
    found |= {f"topic:{t['TopicArn']}" for t in client("sns").list_topics()["Topics"]}
    found |= {f"alarm:{a['AlarmName']}" for a in client("cloudwatch").describe_alarms()["MetricAlarms"]}
    elbv2 = client("elbv2")
    found |= {f"load-balancer:{lb['LoadBalancerName']}" for lb in elbv2.describe_load_balancers()["LoadBalancers"]}
    found |= {f"target-group:{tg['TargetGroupName']}" for tg in elbv2.describe_target_groups()["TargetGroups"]}
    found |= {f"http-api:{a['Name']}" for a in client("apigatewayv2").get_apis()["Items"]}
    found |= {f"function:{f['FunctionName']}" for f in client("lambda").list_functions()["Functions"]}
    targets = client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    found |= {f"scalable-target:{t['ResourceId']}" for t in targets}
    kms = client("kms")
    # AWS-managed keys (alias/aws/dynamodb, ...) are made on first use and stay with the account.
    managed = {a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith("alias/aws/")}
    for key in kms.list_keys()["Keys"]:
        metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if metadata["KeyState"] not in ("PendingDeletion", "Disabled") and key["KeyId"] not in managed:
            found.add(f"kms-key:{key['KeyId']}")
    return found
