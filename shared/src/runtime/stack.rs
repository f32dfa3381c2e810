//! The stack's own names, from the function's environment (the template's parameters): what one
//! stack watches, snapshots, backs up and health-checks. They take the place of the policy's
//! (whose built-in values are AxiomCore production's), so two stacks running the same policy —
//! staging and production in one account — never act on each other's cluster, alarms, database,
//! parameter, state file, secret or endpoint.

use crate::policy::{Endpoint, ObjectSource, Policy};

/// The variables, in the order they are applied; `axiom-ops policy show` prints the result.
pub const VARIABLES: &[&str] = &[
    "OPS_CLUSTER",
    "OPS_ALARM_PREFIX",
    "OPS_LOG_GROUP_PREFIX",
    "OPS_DATABASE",
    "OPS_MAINTENANCE_PARAMETER",
    "OPS_API_URL",
    "OPS_STATE_OBJECT",
    "OPS_BACKUP_SECRET",
    "OPS_BACKUP_KMS_KEY_ID",
    "OPS_BACKUP_HMAC_KEY_ID",
];

/// A variable whose value cannot name what it should: which, and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{var} is {value:?}: {why}")]
pub struct StackError {
    pub var: &'static str,
    pub value: String,
    pub why: String,
}

/// Applies every variable that is set (`get` returns it trimmed, `None` when unset or empty).
pub fn apply(policy: &mut Policy, get: impl Fn(&str) -> Option<String>) -> Result<(), StackError> {
    if let Some(c) = get("OPS_CLUSTER") {
        policy.cluster = c;
    }
    if let Some(p) = get("OPS_ALARM_PREFIX") {
        policy.alarm_prefix = p;
    }
    if let Some(prefix) = get("OPS_LOG_GROUP_PREFIX") {
        let prefix = if prefix.ends_with('/') {
            prefix
        } else {
            format!("{prefix}/")
        };
        for s in &mut policy.services {
            s.log_group = Some(format!("{prefix}{}", s.name));
        }
    }
    if let Some(id) = get("OPS_DATABASE") {
        let [db] = policy.databases.as_mut_slice() else {
            let n = policy.databases.len();
            return Err(invalid(
                "OPS_DATABASE",
                id,
                format!(
                    "names the stack's one database, and the policy lists {n}: list the stack's \
                     databases in its policy (OPS_POLICY_FILE) and leave DatabaseIdentifier to \
                     scope the IAM"
                ),
            ));
        };
        let old = std::mem::replace(&mut db.id, id.clone());
        if let Some(m) = policy.maintenance.as_mut().filter(|m| m.database == old) {
            m.database = id;
        }
    }
    if let Some(name) = get("OPS_MAINTENANCE_PARAMETER") {
        if !name.starts_with('/') {
            return Err(invalid(
                "OPS_MAINTENANCE_PARAMETER",
                name,
                "not an SSM parameter path (/axiomcore/<stage>/maintenance-mode)",
            ));
        }
        if let Some(m) = policy.maintenance.as_mut() {
            m.parameter = name;
        }
    }
    if let Some(url) = get("OPS_API_URL") {
        api_url(policy, url)?;
    }
    if let Some(object) = get("OPS_STATE_OBJECT") {
        let parsed =
            ObjectSource::parse(&object).map_err(|why| invalid("OPS_STATE_OBJECT", object, why))?;
        // The stack's IAM allows this one object (or prefix): the policy's others could not be
        // read anyway.
        policy.backup.objects = vec![parsed];
    }
    if let Some(secret) = get("OPS_BACKUP_SECRET") {
        policy.backup.secrets = vec![secret];
    }
    // The stack's own keys: two stacks in one account cannot share one alias.
    if let Some(k) = get("OPS_BACKUP_KMS_KEY_ID") {
        policy.backup.kms_key_id = k;
    }
    if let Some(k) = get("OPS_BACKUP_HMAC_KEY_ID") {
        policy.backup.hmac_key_id = k;
    }
    Ok(())
}

/// The API's host moves to the stack's: in the health check (its path kept) and in the
/// certificate endpoints on the same host (others the policy watches stay).
fn api_url(policy: &mut Policy, url: String) -> Result<(), StackError> {
    let host = url
        .strip_prefix("https://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|h| !h.is_empty() && !h.contains(['/', '?', '#', '@']));
    let Some(host) = host.map(str::to_owned) else {
        return Err(invalid(
            "OPS_API_URL",
            url,
            "not the API's base address (https://api.example.net)",
        ));
    };
    let base = format!("https://{host}");
    Endpoint::parse(&base).map_err(|why| invalid("OPS_API_URL", url.clone(), why))?;
    // The policy's API host: the health check's, else its first endpoint's.
    let old = policy
        .maintenance
        .as_ref()
        .and_then(|m| https_parts(&m.health_url))
        .or_else(|| {
            policy
                .certificates
                .endpoints
                .first()
                .and_then(|e| https_parts(&e.url))
        })
        .map(|(host, _)| host.to_owned());
    if let Some(m) = policy.maintenance.as_mut() {
        let path = https_parts(&m.health_url)
            .map(|(_, path)| path)
            .filter(|path| path.starts_with('/'))
            .unwrap_or("/health");
        m.health_url = format!("{base}{path}");
    }
    let mut moved = false;
    for e in &mut policy.certificates.endpoints {
        let Some((host, path)) = https_parts(&e.url) else {
            continue;
        };
        if Some(host) == old.as_deref() {
            *e = Endpoint::parse(&format!("{base}{path}"))
                .map_err(|why| invalid("OPS_API_URL", url.clone(), why))?;
            moved = true;
        }
    }
    if !moved {
        policy
            .certificates
            .endpoints
            .push(Endpoint::parse(&base).map_err(|why| invalid("OPS_API_URL", url, why))?);
    }
    Ok(())
}

/// An https URL's host (with its port) and what follows it (path, query), or `None`.
fn https_parts(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("https://")?;
    Some(rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len())))
}

fn invalid(var: &'static str, value: String, why: impl Into<String>) -> StackError {
    StackError {
        var,
        value,
        why: why.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn staged(vars: &[(&str, &str)]) -> Result<Policy, Box<dyn std::error::Error>> {
        let m: HashMap<&str, &str> = vars.iter().copied().collect();
        let mut p = Policy::built_in()?;
        apply(&mut p, |k| m.get(k).map(|v| v.to_string()))?;
        Ok(p)
    }

    #[test]
    fn a_staging_stack_names_none_of_productions_resources() {
        let p = staged(&[
            ("OPS_CLUSTER", "axiomcore-staging"),
            ("OPS_ALARM_PREFIX", "axiomcore-staging-"),
            ("OPS_LOG_GROUP_PREFIX", "/aws/ecs/axiomcore-staging"),
            ("OPS_DATABASE", "axiomcore-staging"),
            (
                "OPS_MAINTENANCE_PARAMETER",
                "/axiomcore/staging/maintenance-mode",
            ),
            ("OPS_API_URL", "https://api.staging.axiomcore.net/"),
            (
                "OPS_STATE_OBJECT",
                "s3://axiomcore-terraform-state/staging/terraform.tfstate",
            ),
            ("OPS_BACKUP_SECRET", "axiomcore/staging"),
        ])
        .expect("valid");
        assert_eq!(p.cluster, "axiomcore-staging");
        assert_eq!(p.alarm_prefix, "axiomcore-staging-");
        assert_eq!(p.log_group("api"), "/aws/ecs/axiomcore-staging/api");
        assert_eq!(p.databases[0].id, "axiomcore-staging");
        let m = p.maintenance.as_ref().expect("a window");
        assert_eq!(m.database, "axiomcore-staging");
        assert_eq!(m.parameter, "/axiomcore/staging/maintenance-mode");
        assert_eq!(m.health_url, "https://api.staging.axiomcore.net/health");
        assert_eq!(
            p.certificates.endpoints[0].url,
            "https://api.staging.axiomcore.net"
        );
        assert_eq!(p.backup.secrets, ["axiomcore/staging"]);
        // Nothing of production's is left anywhere in the policy.
        let text = format!("{p:?}");
        for prod in [
            "axiomcore-production",
            "/production/",
            "axiomcore/production",
            "example.com",
        ] {
            assert!(!text.contains(prod), "{prod} is still in {text}");
        }
    }

    #[test]
    fn the_api_host_moves_and_the_rest_of_the_policy_stays() {
        let mut p = Policy::built_in().expect("valid");
        if let Some(m) = p.maintenance.as_mut() {
            m.health_url = "https://api.axiomcore.example.com/healthz?deep=1".into();
        }
        p.certificates
            .endpoints
            .push(Endpoint::parse("https://www.axiomcore.com").expect("url"));
        api_url(&mut p, "https://api.staging.axiomcore.net".into()).expect("valid");
        let m = p.maintenance.as_ref().expect("a window");
        assert_eq!(
            m.health_url,
            "https://api.staging.axiomcore.net/healthz?deep=1"
        );
        let urls: Vec<&str> = p
            .certificates
            .endpoints
            .iter()
            .map(|e| e.url.as_str())
            .collect();
        assert_eq!(
            urls,
            [
                "https://api.staging.axiomcore.net",
                "https://www.axiomcore.com"
            ]
        );
    }

    #[test]
    fn one_database_only() {
        let mut p = Policy::built_in().expect("valid");
        p.databases.clear();
        let e = apply(&mut p, |k| (k == "OPS_DATABASE").then(|| "db".to_owned()))
            .expect_err("no database to replace");
        assert!(e.to_string().contains("the policy lists 0"), "{e}");
    }

    #[test]
    fn unset_leaves_the_policy_as_it_is() {
        assert_eq!(
            format!("{:?}", staged(&[]).expect("valid")),
            format!("{:?}", Policy::built_in().expect("valid"))
        );
    }

    #[test]
    fn a_bad_value_names_its_variable_and_what_was_expected() {
        for (var, value, expected) in [
            ("OPS_API_URL", "http://api.example.net", "https://"),
            (
                "OPS_API_URL",
                "https://api.example.net/health",
                "base address",
            ),
            (
                "OPS_MAINTENANCE_PARAMETER",
                "maintenance-mode",
                "SSM parameter path",
            ),
            ("OPS_STATE_OBJECT", "axiomcore-terraform-state/x", "s3://"),
        ] {
            let e = staged(&[(var, value)]).expect_err(value).to_string();
            assert!(e.contains(var) && e.contains(expected), "{e}");
        }
    }
}
