//! Invariants of the Cloud Run manifests under `deploy/cloudrun/`: who can
//! reach each service, how each edge finds its core sidecar, and where secrets
//! come from. The files are read from disk, so a drifting manifest fails here
//! before it fails in production.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_norway::Value;

const PUBLIC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/cloudrun/public-gateway.yaml"
);
const INTERNAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/cloudrun/internal-cc.yaml"
);
const MIGRATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/cloudrun/migrate-job.yaml"
);

/// Each service manifest with the name of its edge container (and binary).
const SERVICES: [(&str, &str); 2] = [(PUBLIC, "public-gateway"), (INTERNAL, "internal-cc")];

/// Where the edge reaches its core: the sidecar shares the instance's loopback.
const CORE_GRPC_URL: &str = "http://127.0.0.1:50051";

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

/// The two services and the migrate job, each with its path for messages.
fn manifests() -> Vec<(&'static str, Value)> {
    [PUBLIC, INTERNAL, MIGRATE]
        .into_iter()
        .map(|path| (path, load(path)))
        .collect()
}

fn str_at<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value:?}"))
}

/// The spec holding `containers`: a Service's revision template or a Job's task template.
fn pod_spec(doc: &Value) -> &Value {
    match doc["kind"].as_str() {
        Some("Service") => &doc["spec"]["template"]["spec"],
        Some("Job") => &doc["spec"]["template"]["spec"]["template"]["spec"],
        other => panic!("unexpected manifest kind {other:?}"),
    }
}

/// An annotation on the Service itself (ingress lives here).
fn service_annotation<'a>(doc: &'a Value, key: &str) -> &'a str {
    str_at(&doc["metadata"]["annotations"][key], key)
}

/// An annotation on the revision (Service) or execution (Job) template.
fn template_annotation<'a>(doc: &'a Value, key: &str) -> &'a str {
    str_at(
        &doc["spec"]["template"]["metadata"]["annotations"][key],
        key,
    )
}

/// A template annotation whose value is a JSON document.
fn json_annotation(doc: &Value, key: &str) -> serde_json::Value {
    let raw = template_annotation(doc, key);
    serde_json::from_str(raw).unwrap_or_else(|e| panic!("{key} is not JSON ({e}): {raw}"))
}

fn containers(doc: &Value) -> &[Value] {
    pod_spec(doc)["containers"]
        .as_sequence()
        .map(Vec::as_slice)
        .expect("containers is a list")
}

fn name(container: &Value) -> &str {
    str_at(&container["name"], "container name")
}

fn container<'a>(doc: &'a Value, wanted: &str) -> &'a Value {
    containers(doc)
        .iter()
        .find(|c| name(c) == wanted)
        .unwrap_or_else(|| panic!("no container named {wanted}"))
}

fn image(container: &Value) -> &str {
    str_at(&container["image"], "image")
}

/// The tag of an image reference (`…/name:TAG`).
fn tag(container: &Value) -> &str {
    image(container)
        .rsplit('/')
        .next()
        .and_then(|last| last.split_once(':'))
        .map(|(_, tag)| tag)
        .unwrap_or_else(|| panic!("{} has no tag", image(container)))
}

fn ports(container: &Value) -> &[Value] {
    container["ports"]
        .as_sequence()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The one container that takes requests: Cloud Run allows a port on exactly one.
fn edge(doc: &Value) -> &Value {
    let with_ports: Vec<&Value> = containers(doc)
        .iter()
        .filter(|c| !ports(c).is_empty())
        .collect();
    assert_eq!(
        with_ports.len(),
        1,
        "exactly one container may expose a port"
    );
    with_ports[0]
}

fn container_port(container: &Value) -> u64 {
    ports(container)
        .first()
        .and_then(|port| port["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("{} has no containerPort", name(container)))
}

fn env_entries(container: &Value) -> &[Value] {
    container["env"]
        .as_sequence()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn env_entry<'a>(container: &'a Value, var: &str) -> Option<&'a Value> {
    env_entries(container)
        .iter()
        .find(|entry| entry["name"].as_str() == Some(var))
}

/// A plain `value:` env var.
fn literal_env<'a>(container: &'a Value, var: &str) -> Option<&'a str> {
    env_entry(container, var)?["value"].as_str()
}

/// The Secret Manager secret and version an env entry reads, if it names both.
fn secret_ref(entry: &Value) -> Option<(&str, &str)> {
    let key_ref = &entry["valueFrom"]["secretKeyRef"];
    let secret = key_ref["name"].as_str().filter(|name| !name.is_empty())?;
    let version = key_ref["key"].as_str().filter(|key| !key.is_empty())?;
    Some((secret, version))
}

fn is_secret(var: &str) -> bool {
    var.contains("SECRET")
        || var.contains("PASSWORD")
        || var.ends_with("_TOKEN")
        || var == "DATABASE_URL"
        || var == "REDIS_URL"
}

fn port_of(addr: &str) -> u64 {
    addr.rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {addr}"))
}

#[test]
fn public_gateway_accepts_traffic_from_the_internet() {
    assert_eq!(
        service_annotation(&load(PUBLIC), "run.googleapis.com/ingress"),
        "all"
    );
}

#[test]
fn internal_cc_accepts_traffic_only_from_inside_the_vpc() {
    assert_eq!(
        service_annotation(&load(INTERNAL), "run.googleapis.com/ingress"),
        "internal"
    );
}

#[test]
fn internal_cc_egresses_through_direct_vpc() {
    let doc = load(INTERNAL);
    let interfaces = json_annotation(&doc, "run.googleapis.com/network-interfaces");
    let interfaces = interfaces
        .as_array()
        .expect("network-interfaces is a JSON list");
    assert!(!interfaces.is_empty(), "no network interface");
    for interface in interfaces {
        for field in ["network", "subnetwork"] {
            assert!(
                interface[field].as_str().is_some_and(|v| !v.is_empty()),
                "network interface without {field}: {interface}"
            );
        }
    }
    assert!(
        ["private-ranges-only", "all-traffic"].contains(&template_annotation(
            &doc,
            "run.googleapis.com/vpc-access-egress"
        ))
    );
}

#[test]
fn public_gateway_keeps_websockets_open_for_an_hour_on_the_same_instance() {
    let doc = load(PUBLIC);
    assert_eq!(
        template_annotation(&doc, "run.googleapis.com/sessionAffinity"),
        "true"
    );
    let timeout = timeout_seconds(&doc);
    assert!(
        timeout >= 3600,
        "timeoutSeconds {timeout} cuts WebSockets short"
    );
}

fn timeout_seconds(doc: &Value) -> u64 {
    pod_spec(doc)["timeoutSeconds"]
        .as_u64()
        .expect("timeoutSeconds")
}

#[test]
fn internal_cc_keeps_the_dashboard_event_stream_open_for_an_hour() {
    let timeout = timeout_seconds(&load(INTERNAL));
    assert!(
        timeout >= 3600,
        "timeoutSeconds {timeout} cuts the CC's event stream short"
    );
}

#[test]
fn each_service_exposes_exactly_one_container_and_it_is_the_edge() {
    for (path, edge_name) in SERVICES {
        let doc = load(path);
        let edge = edge(&doc);
        assert_eq!(name(edge), edge_name, "{path}");
        assert!(
            image(edge).contains(&format!("/{edge_name}:")),
            "{path}: the {edge_name} container runs {}",
            image(edge)
        );
    }
}

#[test]
fn each_service_runs_a_portless_core_sidecar_on_the_grpc_port() {
    for (path, _) in SERVICES {
        let doc = load(path);
        let core = container(&doc, "core");
        assert!(
            ports(core).is_empty(),
            "{path}: the core must not take requests"
        );
        assert!(
            image(core).contains("/halo-core:"),
            "{path}: core runs {}",
            image(core)
        );
        let addr = literal_env(core, "CORE_GRPC_ADDR").expect("core sets CORE_GRPC_ADDR");
        assert_eq!(port_of(addr), 50051, "{path}: the core listens on {addr}");
    }
}

#[test]
fn each_edge_dials_the_address_its_core_sidecar_listens_on() {
    for (path, _) in SERVICES {
        let doc = load(path);
        let addr = literal_env(container(&doc, "core"), "CORE_GRPC_ADDR").expect("CORE_GRPC_ADDR");
        let url = literal_env(edge(&doc), "CORE_GRPC_URL").expect("edge sets CORE_GRPC_URL");
        assert_eq!(port_of(url), port_of(addr), "{path}");
        assert_eq!(
            url, CORE_GRPC_URL,
            "{path}: the edge reaches its sidecar over loopback"
        );
    }
}

#[test]
fn each_edge_starts_only_after_its_core_sidecar() {
    for (path, edge_name) in SERVICES {
        let doc = load(path);
        let mut expected = serde_json::Map::new();
        expected.insert(edge_name.to_owned(), serde_json::json!(["core"]));
        assert_eq!(
            json_annotation(&doc, "run.googleapis.com/container-dependencies"),
            serde_json::Value::Object(expected),
            "{path}"
        );
    }
}

#[test]
fn each_core_sidecar_is_probed_over_grpc_on_the_port_it_listens_on() {
    for (path, _) in SERVICES {
        let doc = load(path);
        let core = container(&doc, "core");
        let port = port_of(literal_env(core, "CORE_GRPC_ADDR").expect("CORE_GRPC_ADDR"));
        for probe in ["startupProbe", "livenessProbe"] {
            assert_eq!(
                core[probe]["grpc"]["port"].as_u64(),
                Some(port),
                "{path}: core {probe}"
            );
        }
    }
}

#[test]
fn each_edge_starts_on_readyz_and_stays_alive_on_healthz() {
    for (path, _) in SERVICES {
        let doc = load(path);
        let edge = edge(&doc);
        let port = container_port(edge);
        for (probe, probe_path) in [("startupProbe", "/readyz"), ("livenessProbe", "/healthz")] {
            let http = &edge[probe]["httpGet"];
            assert_eq!(http["path"].as_str(), Some(probe_path), "{path}: {probe}");
            assert_eq!(http["port"].as_u64(), Some(port), "{path}: {probe} port");
        }
    }
}

#[test]
fn secrets_come_only_from_secret_manager_and_never_as_literal_values() {
    let mut seen = BTreeSet::new();
    for (path, doc) in manifests() {
        for c in containers(&doc) {
            for entry in env_entries(c) {
                let var = str_at(&entry["name"], "env name");
                if !is_secret(var) {
                    continue;
                }
                assert!(
                    entry.get("value").is_none(),
                    "{path}: {}/{var} has a literal value",
                    name(c)
                );
                assert!(
                    secret_ref(entry).is_some(),
                    "{path}: {}/{var} must use valueFrom.secretKeyRef with a name and a key",
                    name(c)
                );
                seen.insert(var.to_owned());
            }
        }
    }
    for var in [
        "DATABASE_URL",
        "REDIS_URL",
        "AUTH_JWT_SECRET",
        "CC_BOOTSTRAP_ADMIN_PASSWORD",
        "XENDIT_SECRET_KEY",
        "XENDIT_CALLBACK_TOKEN",
    ] {
        assert!(
            seen.contains(var),
            "{var} is not read from Secret Manager anywhere"
        );
    }
}

#[test]
fn no_literal_env_value_is_a_connection_string() {
    for (path, doc) in manifests() {
        for c in containers(&doc) {
            for entry in env_entries(c) {
                let Some(value) = entry["value"].as_str() else {
                    continue;
                };
                for scheme in ["postgres://", "postgresql://", "redis://", "rediss://"] {
                    assert!(
                        !value.starts_with(scheme),
                        "{path}: {}/{} inlines a {scheme} URL, which carries a password",
                        name(c),
                        str_at(&entry["name"], "env name")
                    );
                }
            }
        }
    }
}

#[test]
fn both_services_and_the_migrate_job_use_the_same_cloud_sql_instance() {
    let instances: Vec<String> = manifests()
        .iter()
        .map(|(_, doc)| {
            template_annotation(doc, "run.googleapis.com/cloudsql-instances").to_owned()
        })
        .collect();
    assert!(
        instances.iter().all(|i| *i == instances[0]),
        "the manifests name different Cloud SQL instances: {instances:?}"
    );
    assert_eq!(
        instances[0]
            .split(':')
            .filter(|part| !part.is_empty())
            .count(),
        3,
        "{} is not PROJECT:REGION:INSTANCE",
        instances[0]
    );
}

#[test]
fn internal_cc_listens_on_all_interfaces_at_port_3001() {
    let doc = load(INTERNAL);
    let edge = edge(&doc);
    assert_eq!(
        literal_env(edge, "HOST"),
        Some("0.0.0.0"),
        "internal-cc defaults to 127.0.0.1, which Cloud Run cannot reach"
    );
    assert_eq!(container_port(edge), 3001);
}

#[test]
fn public_gateway_listens_on_port_3000_over_http1() {
    let doc = load(PUBLIC);
    let edge = edge(&doc);
    assert_eq!(container_port(edge), 3000);
    // WebSocket upgrades need HTTP/1.1 end to end; `h2c` would break them.
    assert_eq!(ports(edge)[0]["name"].as_str(), Some("http1"));
}

#[test]
fn no_container_sets_the_port_variable_that_cloud_run_reserves() {
    // Cloud Run injects PORT from containerPort and rejects a manual one.
    for (path, doc) in manifests() {
        for c in containers(&doc) {
            assert!(
                env_entry(c, "PORT").is_none(),
                "{path}: {} sets PORT",
                name(c)
            );
        }
    }
}

#[test]
fn the_migrate_job_runs_halo_core_migrate_once() {
    let job = load(MIGRATE);
    let [task] = containers(&job) else {
        panic!("the migrate job runs exactly one container");
    };
    let args: Vec<&str> = task["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .map(|arg| str_at(arg, "arg"))
        .collect();
    assert_eq!(args, ["migrate"]);
    for (path, _) in SERVICES {
        assert_eq!(
            image(task),
            image(container(&load(path), "core")),
            "the job must migrate with the core image {path} runs"
        );
    }
    assert_eq!(
        job["spec"]["template"]["spec"]["taskCount"].as_u64(),
        Some(1)
    );
    assert_eq!(pod_spec(&job)["maxRetries"].as_u64(), Some(1));
}

#[test]
fn every_image_comes_from_the_same_build_tag() {
    let tags: BTreeSet<String> = manifests()
        .iter()
        .flat_map(|(_, doc)| {
            containers(doc)
                .iter()
                .map(|c| tag(c).to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        tags.len(),
        1,
        "edge, core and migrate images mix tags: {tags:?}"
    );
}

#[test]
fn both_cores_agree_on_the_mitra_heartbeat_cadence() {
    // The apps honour the public core's value; the CC validates
    // mitra_stale_after_seconds against the internal core's.
    let cadences: Vec<u32> = SERVICES
        .iter()
        .map(|(path, _)| {
            let doc = load(path);
            literal_env(container(&doc, "core"), "MITRA_HEARTBEAT_CADENCE_SECONDS")
                .unwrap_or_else(|| panic!("{path}: core sets no heartbeat cadence"))
                .parse::<u32>()
                .unwrap_or_else(|e| panic!("{path}: heartbeat cadence: {e}"))
        })
        .collect();
    assert!(cadences[0] > 0);
    assert_eq!(cadences[0], cadences[1]);
}

/// The secret `var` of each service, checked to be the same for its edge
/// and its core sidecar.
fn secret_shared_by_edge_and_core(var: &str) -> Vec<String> {
    SERVICES
        .iter()
        .map(|(path, edge_name)| {
            let doc = load(path);
            let secret_of = |container_name: &str| {
                env_entry(container(&doc, container_name), var)
                    .and_then(secret_ref)
                    .map(|(secret, version)| (secret.to_owned(), version.to_owned()))
                    .unwrap_or_else(|| panic!("{path}: {container_name} has no {var}"))
            };
            let edge_secret = secret_of(edge_name);
            assert_eq!(edge_secret, secret_of("core"), "{path}: {var}");
            edge_secret.0
        })
        .collect()
}

#[test]
fn edge_and_core_share_a_jwt_secret_that_no_other_service_holds() {
    // The edge verifies locally what its core signs.
    let per_service = secret_shared_by_edge_and_core("AUTH_JWT_SECRET");
    assert_ne!(
        per_service[0], per_service[1],
        "a token signed for the public service would be accepted by internal-cc"
    );
}

#[test]
fn edge_and_core_share_a_service_credential_that_no_other_service_holds() {
    let per_service = secret_shared_by_edge_and_core("CORE_SERVICE_SECRET");
    assert_ne!(
        per_service[0], per_service[1],
        "the public service's credential would open the internal core"
    );
}

#[test]
fn each_core_serves_only_its_own_services_surface() {
    for (path, surface) in [(PUBLIC, "public"), (INTERNAL, "internal")] {
        let doc = load(path);
        assert_eq!(
            literal_env(container(&doc, "core"), "CORE_SURFACE"),
            Some(surface),
            "{path}"
        );
    }
}

#[test]
fn every_reference_to_a_secret_pins_one_version() {
    // With `latest`, a scale-out after a new version is added starts instances
    // on it while older ones keep the old: an edge would reject tokens its
    // neighbours' cores signed. Rotation bumps the version everywhere at once.
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, doc) in manifests() {
        for c in containers(&doc) {
            for (secret, version) in env_entries(c).iter().filter_map(secret_ref) {
                assert_ne!(
                    version,
                    "latest",
                    "{path}: {}/{secret} is not pinned",
                    name(c)
                );
                versions
                    .entry(secret.to_owned())
                    .or_default()
                    .insert(version.to_owned());
            }
        }
    }
    for (secret, pinned) in versions {
        assert_eq!(
            pinned.len(),
            1,
            "{secret} is pinned to several versions: {pinned:?}"
        );
    }
}

#[test]
fn only_internal_cc_can_read_the_bootstrap_admin_password() {
    let public = load(PUBLIC);
    for c in containers(&public) {
        assert!(
            env_entry(c, "CC_BOOTSTRAP_ADMIN_PASSWORD").is_none(),
            "public-gateway/{} holds the CC admin password",
            name(c)
        );
    }
    let internal = load(INTERNAL);
    let entry = env_entry(container(&internal, "core"), "CC_BOOTSTRAP_ADMIN_PASSWORD");
    assert!(entry.and_then(secret_ref).is_some());
}

#[test]
fn each_manifest_runs_as_its_own_service_account() {
    let accounts: Vec<String> = manifests()
        .iter()
        .map(|(_, doc)| {
            str_at(&pod_spec(doc)["serviceAccountName"], "serviceAccountName").to_owned()
        })
        .collect();
    let distinct: HashSet<&String> = accounts.iter().collect();
    assert_eq!(
        distinct.len(),
        accounts.len(),
        "shared service account: {accounts:?}"
    );
}
