//! The window's calendar and prose: when the next one is, the steps it announces, the report.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc, Weekday};

use super::window::Window;
use crate::policy::{MaintenancePolicy, MaintenanceTask, Policy};

/// The first Sunday of a month, 02:00 UTC: this month's if still ahead, else next month's.
pub fn next_window(now: DateTime<Utc>) -> DateTime<Utc> {
    let first_sunday = |y: i32, m: u32| -> Option<DateTime<Utc>> {
        let first = Utc.with_ymd_and_hms(y, m, 1, 2, 0, 0).single()?;
        let ahead = (7 + Weekday::Sun.num_days_from_monday() as i64
            - first.weekday().num_days_from_monday() as i64)
            % 7;
        Some(first + Duration::days(ahead))
    };
    let (y, m) = (now.year(), now.month());
    match first_sunday(y, m) {
        Some(t) if t > now => t,
        _ => {
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            first_sunday(ny, nm).unwrap_or(now)
        }
    }
}

pub fn planned_steps(policy: &Policy, mp: &MaintenancePolicy) -> Vec<String> {
    let mut s = vec![
        format!("1. maintenance mode on ({})", mp.parameter),
        format!("2. snapshot {} and wait until available", mp.database),
        format!(
            "3. record counts, suspend scaling, scale {} to {}",
            policy
                .services
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(" and "),
            mp.scale_to
        ),
    ];
    for (i, t) in mp.tasks.iter().enumerate() {
        s.push(match t {
            MaintenanceTask::Redeploy { service } => {
                format!("{}. redeploy {service} (patched images)", 4 + i)
            }
            MaintenanceTask::RunTask { name, .. } => {
                format!("{}. run {name}, which must exit 0", 4 + i)
            }
        });
    }
    let n = 4 + mp.tasks.len();
    s.push(format!("{n}. verify health: GET {}", mp.health_url));
    s.push(format!(
        "{}. scale back to the recorded counts, resume scaling, maintenance mode off",
        n + 1
    ));
    s.push(format!(
        "{}. watch critical alarms for {} min, then report",
        n + 2,
        mp.monitor.as_secs() / 60
    ));
    s
}

/// Each step's time and outcome, for the report and the rollback notice.
pub fn report_text(w: &Window, now: DateTime<Utc>) -> String {
    let mut s = format!(
        "Window {} ({}), started {}\n",
        w.id,
        if w.dry_run { "dry run" } else { "live" },
        w.started.format("%Y-%m-%d %H:%M:%SZ")
    );
    for l in &w.log {
        s.push_str(&format!(
            "  {}–{}  {:<14} {:<8} {}\n",
            l.started.format("%H:%M:%S"),
            l.ended.format("%H:%M:%S"),
            l.phase,
            l.outcome,
            l.detail
        ));
    }
    for warn in &w.warnings {
        s.push_str(&format!("  warning: {warn}\n"));
    }
    // A finished window took what it took; one in progress has taken until now.
    let end = if w.phase.is_final() {
        w.phase_since.min(now)
    } else {
        now
    };
    s.push_str(&format!("  took {} min\n", (end - w.started).num_minutes()));
    s
}

/// Whether `day` is a window's day: the first Sunday of its month.
pub fn is_window_day(day: DateTime<Utc>) -> bool {
    use chrono::{Datelike, Weekday};
    day.weekday() == Weekday::Sun && day.day() <= 7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_the_first_sunday_of_the_month() {
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc))
                .expect("time")
        };
        // 2026-12-06 is the first Sunday of December; the notice goes out on 2026-11-29.
        assert_eq!(
            next_window(t("2026-11-29T02:00:00Z")),
            t("2026-12-06T02:00:00Z")
        );
        assert_eq!(
            next_window(t("2026-12-01T00:00:00Z")),
            t("2026-12-06T02:00:00Z")
        );
        assert_eq!(
            next_window(t("2026-12-06T03:00:00Z")),
            t("2027-01-03T02:00:00Z")
        );
        assert_eq!(
            next_window(t("2027-01-31T02:00:00Z")),
            t("2027-02-07T02:00:00Z")
        );
    }
}
