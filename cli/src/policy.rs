//! `axiom-ops policy validate [FILE]` and `axiom-ops policy show`: the policy a function would
//! run with, checked as its cold start checks it, and said in full.

use anyhow::bail;
use axiom_ops::policy::Policy;
use serde_json::json;

use crate::output::Output;

/// One line of a text being built.
macro_rules! say {
    ($s:expr, $($fmt:tt)*) => {{
        $s.push_str(&format!($($fmt)*));
        $s.push('\n');
    }};
}

/// FILE, else the policy a function would run with here: `OPS_POLICY_FILE` (else the built-in
/// one); either with the stack's names from the environment (`OPS_CLUSTER`, `OPS_DATABASE`, …,
/// `runtime::stack`) in place of its own, as a cold start reads it.
fn load(file: Option<&str>) -> (String, anyhow::Result<Policy>) {
    if let Some(f) = file {
        let policy = Policy::load(Some(f))
            .map_err(anyhow::Error::from)
            .and_then(|mut p| {
                let env = |k: &str| {
                    std::env::var(k)
                        .ok()
                        .map(|v| v.trim().to_owned())
                        .filter(|v| !v.is_empty())
                };
                axiom_ops::runtime::stack::apply(&mut p, env)?;
                Ok(p)
            });
        return (f.to_owned(), policy);
    }
    let origin = std::env::var("OPS_POLICY_FILE")
        .ok()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "(built-in)".into());
    let policy = axiom_ops::runtime::Config::from_env()
        .map(|c| c.policy)
        .map_err(anyhow::Error::from);
    (origin, policy)
}

pub fn validate(file: Option<&str>, out: Output) -> anyhow::Result<()> {
    let (origin, policy) = load(file);
    match policy {
        Ok(p) => {
            let doc = json!({
                "policy": origin,
                "valid": true,
                "services": p.services.len(),
                "rules": p.rules.len(),
                "databases": p.databases.len(),
                "backed_up_objects": p.backup.objects.len(),
                "backed_up_secrets": p.backup.secrets.len(),
            });
            out.print(&doc, || {
                format!(
                    "{origin}: valid — {} services, {} rules, {} databases, {} objects and {} \
                     secrets backed up\n",
                    p.services.len(),
                    p.rules.len(),
                    p.databases.len(),
                    p.backup.objects.len(),
                    p.backup.secrets.len()
                )
            })
        }
        Err(e) => bail!("{e}"),
    }
}

fn dur(d: std::time::Duration) -> String {
    humantime::format_duration(d).to_string()
}

pub fn show(file: Option<&str>, out: Output) -> anyhow::Result<()> {
    let (origin, policy) = load(file);
    let p = policy?;
    let rules: Vec<_> = p
        .rules
        .iter()
        .map(|r| {
            json!({
                "alarm": r.pattern,
                "action": r.action.as_str(),
                "by": (r.scale_by > 0).then_some(r.scale_by),
                "severity": r.severity.to_string(),
                "rollback": r.rollback,
                "scale_up": r.scale_up,
            })
        })
        .collect();
    let g = &p.guards;
    let doc = json!({
        "origin": origin,
        "cluster": p.cluster,
        "alarm_prefix": p.alarm_prefix,
        "services": p.services.iter().map(|s| json!({"name": s.name, "min": s.min, "max": s.max, "log_group": p.log_group(&s.name)})).collect::<Vec<_>>(),
        "guards": {
            "restart_cooldown": dur(g.restart_cooldown),
            "scale_out_cooldown": dur(g.scale_out_cooldown),
            "circuit_max_restarts": g.circuit_max_restarts,
            "circuit_window": dur(g.circuit_window),
            "verify_alarms": g.verify_alarms,
            "incident_max_age": dur(g.incident_max_age),
            "max_pause": dur(g.max_pause),
        },
        "rules": rules,
        "databases": p.databases.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
        "backup": {
            "objects": p.backup.objects.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
            "secrets": p.backup.secrets,
            "kms_key_id": p.backup.kms_key_id,
            "hmac_key_id": p.backup.hmac_key_id,
        },
        "restore_drill": {
            "instance_class": p.restore_drill.instance_class,
            "rto_target": dur(p.restore_drill.rto_target),
        },
        "maintenance": p.maintenance.as_ref().map(|m| json!({
            "parameter": m.parameter,
            "health_url": m.health_url,
            "database": m.database,
        })),
        "certificate_endpoints": p.certificates.endpoints.iter().map(|e| e.url.clone()).collect::<Vec<_>>(),
    });
    let mut text = String::new();
    say!(text, "policy {origin}");
    say!(
        text,
        "\nallowlist: cluster {} (alarms {}*)",
        p.cluster,
        p.alarm_prefix
    );
    for s in &p.services {
        say!(
            text,
            "  {:<12} min {:<3} max {:<3} logs {}",
            s.name,
            s.min,
            s.max,
            p.log_group(&s.name)
        );
    }
    let guards = format!(
        "guards: restart cooldown {}, scale-out cooldown {}, circuit {} restarts in {}, verify \
         alarms {}, incident max age {}, max pause {}",
        dur(g.restart_cooldown),
        dur(g.scale_out_cooldown),
        g.circuit_max_restarts,
        dur(g.circuit_window),
        g.verify_alarms,
        dur(g.incident_max_age),
        dur(g.max_pause)
    );
    say!(
        text,
        "\n{}",
        crate::text::wrap(&guards, crate::text::width(), "")
    );
    say!(text, "\nrules (first match wins):");
    let w = p
        .rules
        .iter()
        .map(|r| r.pattern.len())
        .max()
        .unwrap_or(5)
        .max(5);
    say!(
        text,
        "  {:<w$}  {:<10}  {:<4}  SEVERITY  EXTRA",
        "ALARM",
        "ACTION",
        "BY"
    );
    for r in &p.rules {
        let extra = [(r.rollback, "rollback"), (r.scale_up, "scale_up")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(",");
        let by = if r.scale_by > 0 {
            r.scale_by.to_string()
        } else {
            "-".into()
        };
        let line = format!(
            "  {:<w$}  {:<10}  {by:<4}  {:<8}  {extra}",
            r.pattern,
            r.action.as_str(),
            r.severity.to_string()
        );
        say!(text, "{}", line.trim_end());
    }
    let dbs: Vec<&str> = p.databases.iter().map(|d| d.id.as_str()).collect();
    say!(text, "\ndatabases: {}", dbs.join(", "));
    let objects: Vec<String> = p.backup.objects.iter().map(|o| o.to_string()).collect();
    let backups = format!(
        "backups: {} and secrets {} under {}; drill as {} within {}",
        objects.join(", "),
        p.backup.secrets.join(", "),
        p.backup.kms_key_id,
        p.restore_drill.instance_class,
        dur(p.restore_drill.rto_target)
    );
    say!(
        text,
        "{}",
        crate::text::wrap(&backups, crate::text::width(), "")
    );
    if let Some(m) = &p.maintenance {
        say!(
            text,
            "maintenance: {} (database {}), health {}",
            m.parameter,
            m.database,
            m.health_url
        );
    }
    let endpoints: Vec<&str> = p
        .certificates
        .endpoints
        .iter()
        .map(|e| e.url.as_str())
        .collect();
    say!(text, "certificates watched at: {}", endpoints.join(", "));
    out.print(&doc, || text)
}
