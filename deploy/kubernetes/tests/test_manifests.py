"""The properties issue 11 asks of the Kubernetes manifests, checked on each overlay as kustomize renders it."""
import re

import pytest

from tests.netpol import Pod, allowed

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|PRIVATE|TOKEN", re.IGNORECASE)


# --- helpers ---------------------------------------------------------------------------------------------------
def of_kind(resources, kind):
    return [r for r in resources if r["kind"] == kind]


def named(resources, kind, name):
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(workload):
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def pod_labels(workload):
    return workload["spec"]["template"]["metadata"]["labels"]


def workloads(resources):
    return [r for r in resources if r["kind"] in WORKLOAD_KINDS]


def containers(spec):
    return [*spec.get("initContainers", []), *spec["containers"]]


def namespace(resources):
    """The overlay's namespace: the one Namespace it creates, where every other resource lives."""
    (created,) = of_kind(resources, "Namespace")
    name = created["metadata"]["name"]
    assert all(r["metadata"].get("namespace") == name for r in resources if r["kind"] != "Namespace")
    return name


def main_container(deployment):
    return pod_spec(deployment)["containers"][0]


def port_number(container, name_or_number):
    if isinstance(name_or_number, int):
        return name_or_number
    return next(p["containerPort"] for p in container["ports"] if p["name"] == name_or_number)


# --- pods: security, resources, scratch space ------------------------------------------------------------------
def test_every_pod_runs_as_non_root_with_a_read_only_root_and_no_capabilities(resources):
    assert workloads(resources)
    for workload in workloads(resources):
        spec = pod_spec(workload)
        pod = spec.get("securityContext", {})
        for container in containers(spec):
            where = f"{workload['metadata']['name']}/{container['name']}"
            own = container.get("securityContext", {})
            assert own.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, where
            assert own.get("runAsUser", pod.get("runAsUser", 1)) != 0, where
            assert own.get("readOnlyRootFilesystem") is True, where
            assert own.get("allowPrivilegeEscalation") is False, where
            assert "ALL" in own.get("capabilities", {}).get("drop", []), where
            assert not own.get("capabilities", {}).get("add"), where
            assert own.get("privileged") is not True, where
            seccomp = own.get("seccompProfile", pod.get("seccompProfile", {}))
            assert seccomp.get("type") == "RuntimeDefault", where
        assert spec.get("automountServiceAccountToken") is False, workload["metadata"]["name"]
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), workload["metadata"]["name"]


def test_every_container_has_requests_and_limits(resources):
    for workload in workloads(resources):
        for container in containers(pod_spec(workload)):
            where = f"{workload['metadata']['name']}/{container['name']}"
            for bound in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    assert container.get("resources", {}).get(bound, {}).get(resource), f"{where}: {bound}.{resource}"


def test_tmp_is_a_writable_empty_dir_in_every_container(resources):
    for workload in workloads(resources):
        spec = pod_spec(workload)
        empty_dirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for container in containers(spec):
            tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
            assert tmp and tmp[0]["name"] in empty_dirs, f"{workload['metadata']['name']}/{container['name']}"


def test_images_are_the_shops_two_with_the_overlays_tag(resources):
    overlay = namespace(resources)
    for workload in workloads(resources):
        for container in containers(pod_spec(workload)):
            name, _, tag = container["image"].rpartition(":")
            assert name.rsplit("/", 1)[-1] in ("shop-python", "shop-gateway"), container["image"]
            assert tag and tag != "latest", f"{container['image']}: an overlay sets the tag"
            if overlay == "shop":  # prod: from a registry
                assert "/" in name, container["image"]


# --- processes: one Deployment per process, probes, grace ------------------------------------------------------
def test_each_process_is_a_deployment_running_its_kind(resources, shop):
    for process in shop.processes:
        deployment = named(resources, "Deployment", process.name)
        container = main_container(deployment)
        assert container["args"] == [process.service.name, process.kind.name]
        assert pod_labels(deployment)["shop/service"] == process.service.name
        assert pod_spec(deployment)["terminationGracePeriodSeconds"] == process.kind.stop_grace_seconds
        if process.kind.scalable:
            assert "replicas" not in deployment["spec"], "the HPA owns the count"
        else:
            assert deployment["spec"]["replicas"] >= process.replicas


def test_probes_ask_readyz_and_healthz_on_the_process_port(resources, shop):
    for process in shop.processes:
        container = main_container(named(resources, "Deployment", process.name))
        assert [p["containerPort"] for p in container["ports"]] == [process.port]
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"),
                            ("startupProbe", "/healthz")):
            get = container[probe]["httpGet"]
            assert get["path"] == path, f"{process.name} {probe}"
            assert port_number(container, get["port"]) == process.port, f"{process.name} {probe}"
        if process.kind.name != "web":
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert env["SHOP_HEALTH_PORT"] == str(process.port), process.name


def test_web_services_are_named_for_the_gateway_and_point_at_the_web_port(resources, shop):
    gateway_env = {e["name"]: e["value"] for e in main_container(named(resources, "Deployment", "gateway"))["env"]}
    for service in shop.services:
        web = service.process("web")
        svc = named(resources, "Service", web.name)
        assert svc["spec"]["selector"] == {"app.kubernetes.io/name": web.name}
        assert [p["port"] for p in svc["spec"]["ports"]] == [web.port]
        assert gateway_env[f"SHOP_{service.name.upper()}_UPSTREAM"] == f"{web.name}:{web.port}"


def test_deployments_spread_over_zones_and_nodes(resources):
    for deployment in of_kind(resources, "Deployment"):
        if deployment["metadata"]["name"] == "mailbox":
            continue  # the dev mailbox: one pod, nothing to spread
        keys = {c["topologyKey"] for c in pod_spec(deployment).get("topologySpreadConstraints", [])}
        assert {"kubernetes.io/hostname", "topology.kubernetes.io/zone"} <= keys, deployment["metadata"]["name"]


# --- availability: HPA and disruption budgets ------------------------------------------------------------------
def test_each_web_deployment_has_an_hpa_and_every_deployment_a_pdb(resources, shop):
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(resources, "HorizontalPodAutoscaler")}
    for process in shop.processes:
        if process.kind.scalable:
            hpa = hpas[process.name]
            assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
            assert hpa["spec"]["metrics"], process.name
    budgets = of_kind(resources, "PodDisruptionBudget")
    for deployment in of_kind(resources, "Deployment"):
        if deployment["metadata"]["name"] == "mailbox":
            continue
        labels = pod_labels(deployment)
        matching = [b for b in budgets
                    if all(labels.get(k) == v for k, v in b["spec"]["selector"]["matchLabels"].items())]
        assert len(matching) == 1, deployment["metadata"]["name"]
    assert any(b["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "shop-broker"} for b in budgets)


# --- start-up order: migrations, topology ----------------------------------------------------------------------
def test_migrations_and_topology_are_jobs_the_processes_wait_for(resources, shop):
    consuming = sorted(s.name for s in shop.services if s.consumes)
    for service in shop.services:
        job = named(resources, "Job", f"{service.name}-migrate")
        steps = [c["args"] for c in containers(pod_spec(job))]
        assert steps[0] == [service.name, "manage", "migrate", "--noinput"]
        assert [s[2] for s in steps[1:]] == list(service.seed)
        if service.consumes:
            topology_job = named(resources, "Job", f"{service.name}-topology")
            assert [c["args"] for c in containers(pod_spec(topology_job))] == [
                [service.name, "manage", "declare_topology"]]
        for process in service.processes:
            init = {c["name"]: c for c in pod_spec(named(resources, "Deployment", process.name))["initContainers"]}
            assert f"shop {service.name} manage migrate --check" in init["wait-for-migrations"]["args"][0]
            if process.kind.name == "relay":
                args = init["wait-for-topology"]["args"]
                assert args[:3] == [service.name, "manage", "wait_for_topology"]
                assert sorted(a.split("=", 1)[1] for a in args if a.startswith("--service=")) == consuming


# --- secrets ---------------------------------------------------------------------------------------------------
def test_no_secret_value_is_written_in_the_manifests(resources):
    assert not of_kind(resources, "Secret"), "Secrets are created beside the manifests (README.md)"
    for config in of_kind(resources, "ConfigMap"):
        for key in config.get("data", {}):
            assert not SECRET_NAME.search(key), f"ConfigMap {config['metadata']['name']}: {key}"
    for workload in workloads(resources):
        for container in containers(pod_spec(workload)):
            for env in container.get("env", []):
                where = f"{workload['metadata']['name']}/{container['name']}: {env['name']}"
                if SECRET_NAME.search(env["name"]):
                    assert "valueFrom" in env and "secretKeyRef" in env["valueFrom"], where
                value = env.get("value", "")
                # a URL with credentials takes them from variables that come from Secrets
                userinfo = re.match(r"^\w+://([^@/]*)@", value)
                if userinfo:
                    assert re.fullmatch(r"(\$\(\w+\)|\w+):\$\(\w+\)", userinfo.group(1)), where


# --- the broker and the databases ------------------------------------------------------------------------------
def test_broker_is_a_rabbitmq_cluster_with_one_least_privileged_user_per_service(resources, shop):
    cluster = named(resources, "RabbitmqCluster", "shop-broker")
    assert cluster["spec"]["replicas"] == (1 if namespace(resources) == "shop-dev" else 3)
    users = {u["metadata"]["name"]: u for u in of_kind(resources, "User") if u["apiVersion"].startswith("rabbitmq")}
    permissions = {p["spec"]["userReference"]["name"]: p for p in of_kind(resources, "Permission")}
    assert set(users) == set(permissions) == {f"broker-{s.name}" for s in shop.services}
    for service in shop.services:
        user = users[f"broker-{service.name}"]
        assert user["spec"]["importCredentialsSecret"]["name"] == f"broker-{service.name}"
        assert not user["spec"].get("tags"), "no management access"
        rules = {k: re.compile(v) for k, v in permissions[f"broker-{service.name}"]["spec"]["permissions"].items()}
        assert rules["write"].match("shop.events") and rules["configure"].match("shop.events")
        own = [f"{service.name}.events", f"{service.name}.events.retry.1", f"{service.name}.events.dead"]
        for other in shop.services:
            if other is service:
                continue
            for queue in (f"{other.name}.events", f"{other.name}.events.retry.2", f"{other.name}.events.dead"):
                for access, rule in rules.items():
                    assert not rule.match(queue), f"{service.name} may {access} {queue}"
        for access, rule in rules.items():
            for name in ("amq.topic", "shop.events.x", "x.shop.events", f"{service.name}.eventsX"):
                assert not rule.match(name), f"{service.name} may {access} {name}"
            for queue in own:
                assert bool(rule.match(queue)) == service.consumes, f"{service.name} {access} {queue}"
    topics = {p["spec"]["userReference"]["name"]: p["spec"] for p in of_kind(resources, "TopicPermission")}
    assert set(topics) == set(users)
    for service in shop.services:  # on shop.events, each publishes only the event types of what it owns
        spec = topics[f"broker-{service.name}"]
        assert spec["permissions"]["exchange"] == "shop.events"
        write = re.compile(spec["permissions"]["write"])
        for other in shop.services:
            for aggregate in other.publishes:
                assert bool(write.match(f"{aggregate}.happened")) == (other is service), (service.name, aggregate)


def test_each_service_has_its_database_by_operator_resource(resources, shop):
    for service in shop.services:
        if service.database == "postgres":
            cluster = named(resources, "Cluster", f"{service.name}-db")
            assert cluster["spec"]["bootstrap"]["initdb"]["database"] == service.name
        else:
            named(resources, "MariaDB", f"{service.name}-db")
            grant = [g for g in of_kind(resources, "Grant") if g["spec"]["username"] == service.name]
            assert grant and grant[0]["spec"]["database"] == service.name


# --- network policies ------------------------------------------------------------------------------------------
@pytest.fixture
def network(resources, shop):
    """The policies, and the pods (ours, the operators', outside ones) to try connections between."""
    policies = of_kind(resources, "NetworkPolicy")
    pods = {w["metadata"]["name"]: Pod(w["metadata"]["name"], pod_labels(w)) for w in workloads(resources)}
    pods["broker"] = Pod("broker", {"app.kubernetes.io/name": "shop-broker"})
    for service in shop.services:
        if service.database == "postgres":
            labels = {"cnpg.io/cluster": f"{service.name}-db", "cnpg.io/instanceRole": "primary"}
        else:
            labels = {"app.kubernetes.io/name": "mariadb", "app.kubernetes.io/instance": f"{service.name}-db"}
        pods[f"{service.name}-db"] = Pod(f"{service.name}-db", labels)
    pods["ingress-controller"] = Pod("ingress-controller", {"app.kubernetes.io/name": "ingress-nginx"},
                                     namespace="ingress-nginx")
    pods["other-namespace"] = Pod("other-namespace", {"app.kubernetes.io/name": "gateway"}, namespace="elsewhere")
    pods["kube-dns"] = Pod("kube-dns", {"k8s-app": "kube-dns"}, namespace="kube-system")
    pods["internet"] = Pod("internet", {}, external=True)
    home = namespace(resources)
    return lambda source, destination, port, protocol="TCP": allowed(
        policies, pods[source], pods[destination], port, protocol, home), pods


def test_a_default_deny_policy_isolates_every_pod_both_ways(resources):
    deny = [p for p in of_kind(resources, "NetworkPolicy")
            if p["spec"]["podSelector"] == {} and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny


def test_only_the_gateway_reaches_the_web_ports(network, shop):
    can, pods = network
    # ... and the web pods of the service that answers the shop-wide ops status (it asks every service's port)
    ops = shop.service(shop.gateway["ops_status_service"]).process("web").name
    for service in shop.services:
        web = service.process("web")
        assert can("gateway", web.name, web.port)
        if web.name != ops:
            assert can(ops, web.name, web.port)
        for source in pods:
            if source not in ("gateway", ops):
                assert not can(source, web.name, web.port), f"{source} reaches {web.name}"
        # and no other port of a web pod is open to anyone
        assert not can("gateway", web.name, web.port + 1)


def test_only_the_ingress_controller_reaches_the_gateway(network, shop):
    can, pods = network
    http = shop.gateway["http_port"]
    assert can("ingress-controller", "gateway", http)
    for source in pods:
        if source not in ("ingress-controller", "gateway"):
            assert not can(source, "gateway", http), source


def test_only_the_services_reach_the_broker(network, shop):
    can, pods = network
    amqp = shop.broker["amqp_port"]
    service_pods = [name for name, pod in pods.items() if "shop/service" in pod.labels]
    assert len(service_pods) == len(shop.processes) + len(shop.services) + sum(s.consumes for s in shop.services)
    for source in pods:
        assert can(source, "broker", amqp) == (source in service_pods), source


def test_each_database_admits_only_its_own_service(network, shop):
    can, pods = network
    for service in shop.services:
        port = shop.databases[service.database]["port"]
        own = [n for n, p in pods.items() if p.labels.get("shop/service") == service.name]
        assert len(own) >= len(service.processes) + 1
        for source in pods:
            if source == f"{service.name}-db":
                continue  # replication among its own instances
            assert can(source, f"{service.name}-db", port) == (source in own), f"{source} -> {service.name}-db"


def test_only_the_email_sender_sends_mail_out(network, shop):
    can, pods = network
    senders = {p.name for p in shop.processes if "smtp" in p.kind.needs}
    ours = [name for name, pod in pods.items() if pod.namespace == "" and not pod.external]
    assert senders
    for source in ours:
        for port in (25, 465, 587):
            assert can(source, "internet", port) == (source in senders), f"{source}:{port}"
    for source in ours:  # and nothing of ours goes out to the internet on another port
        assert not can(source, "internet", 80) and not can(source, "internet", 8080), source


def test_every_pod_resolves_names_and_workers_take_no_connections(network, shop):
    can, pods = network
    for source, pod in pods.items():
        if pod.namespace == "" and not pod.external:
            assert can(source, "kube-dns", 53, "UDP"), source
    for process in shop.processes:
        if process.kind.name != "web":
            for source in pods:
                assert not can(source, process.name, process.port), f"{source} -> {process.name}"


# --- wiring: every reference points at something that exists -------------------------------------------------
def test_every_reference_resolves(resources):
    names = {(r["kind"], r["metadata"]["name"]) for r in resources}
    templates = [pod_labels(w) for w in workloads(resources)]
    for workload in workloads(resources):
        spec = pod_spec(workload)
        if "serviceAccountName" in spec:
            assert ("ServiceAccount", spec["serviceAccountName"]) in names
        for container in containers(spec):
            for source in container.get("envFrom", []):
                assert ("ConfigMap", source["configMapRef"]["name"]) in names, workload["metadata"]["name"]
    for service in of_kind(resources, "Service"):
        assert any(all(t.get(k) == v for k, v in service["spec"]["selector"].items()) for t in templates), \
            service["metadata"]["name"]
    for hpa in of_kind(resources, "HorizontalPodAutoscaler"):
        assert ("Deployment", hpa["spec"]["scaleTargetRef"]["name"]) in names
    for rule in named(resources, "Ingress", "shop")["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            service = named(resources, "Service", backend["name"])
            assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    users = {u["metadata"]["name"] for u in of_kind(resources, "User") if u["apiVersion"].startswith("rabbitmq")}
    for permission in of_kind(resources, "Permission"):
        assert permission["spec"]["userReference"]["name"] in users
        assert permission["spec"]["vhost"] in {v["spec"]["name"] for v in of_kind(resources, "Vhost")}
    brokers = {c["metadata"]["name"] for c in of_kind(resources, "RabbitmqCluster")}
    for resource in resources:
        ref = resource.get("spec", {}).get("rabbitmqClusterReference")
        if ref:
            assert ref["name"] in brokers, resource["metadata"]["name"]
        ref = resource.get("spec", {}).get("mariaDbRef")
        if ref:
            assert ("MariaDB", ref["name"]) in names, resource["metadata"]["name"]


def test_the_services_connect_to_the_broker_and_database_services_that_exist(resources, shop):
    broker = named(resources, "RabbitmqCluster", "shop-broker")["metadata"]["name"]
    vhost = named(resources, "Vhost", "shop")["spec"]["name"]
    for process in shop.processes:
        env = {e["name"]: e for e in main_container(named(resources, "Deployment", process.name))["env"]}
        assert env["RABBITMQ_URL"]["value"] == (
            f"amqp://$(BROKER_USERNAME):$(BROKER_PASSWORD)@{broker}:{shop.broker['amqp_port']}/{vhost}")
        url = env[f"{process.service.name.upper()}_DATABASE_URL"]
        if process.service.database == "postgres":
            assert url["valueFrom"]["secretKeyRef"] == {"name": f"{process.service.name}-db-app", "key": "uri"}
        else:
            port = shop.databases["mariadb"]["port"]
            named(resources, "MariaDB", f"{process.service.name}-db")  # its Service has the same name
            assert url["value"].endswith(f"@{process.service.name}-db:{port}/{process.service.name}")


def test_the_dev_sender_mails_the_mailbox(shop):
    from tests.conftest import rendered
    resources = rendered("dev")
    (config,) = of_kind(resources, "ConfigMap")
    mailbox = named(resources, "Service", config["data"]["EMAIL_HOST"])
    assert int(config["data"]["EMAIL_PORT"]) in {p["port"] for p in mailbox["spec"]["ports"]}
    assert int(config["data"]["EMAIL_PORT"]) == shop.mailbox["smtp_port"]


def test_variable_references_name_variables_defined_before_them(resources):
    # Kubernetes expands $(NAME) only for a variable defined earlier in the same list; else the text stays.
    for workload in workloads(resources):
        for container in containers(pod_spec(workload)):
            defined = set()
            for env in container.get("env", []):
                for name in re.findall(r"\$\((\w+)\)", env.get("value", "")):
                    assert name in defined, f"{workload['metadata']['name']}/{container['name']}: {env['name']}"
                defined.add(env["name"])
