//! Retention with restic's `forget` semantics, as a pure function: what to keep of a series of
//! dated copies (RDS snapshots today). The policy's `[snapshots]` section is a [`Keep`].
//!
//! Snapshots are walked newest first. `keep_last` keeps the n newest; each calendar rule (hourly,
//! daily, weekly = ISO week, monthly, yearly; all UTC) keeps the newest snapshot of each of the
//! last n periods that have one; `keep_within` keeps everything within a duration of the newest
//! snapshot. Kept by any rule = kept. When a calendar rule finds fewer periods than it asks for,
//! the oldest snapshot is kept too (restic ≥ 0.17). Snapshots dated in the future are never
//! removed. On top of restic: the newest snapshot is always kept.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, Months, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// A snapshot as retention sees it: small, so 10,000 of them stay a few hundred KiB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snap {
    pub id: String,
    pub created: DateTime<Utc>,
}

/// restic's `--keep-within` duration: years, months, days, hours (`2y5m7d3h`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Within {
    pub years: u32,
    pub months: u32,
    pub days: u32,
    pub hours: u32,
}

impl Within {
    pub fn parse(s: &str) -> Result<Within, String> {
        let mut w = Within::default();
        let mut num = String::new();
        let mut seen = String::new();
        for c in s.trim().chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: u32 = num
                .parse()
                .map_err(|_| format!("{s:?}: a number must come before {c:?}"))?;
            num.clear();
            if seen.contains(c) {
                return Err(format!("{s:?}: {c:?} given twice"));
            }
            seen.push(c);
            match c {
                'y' => w.years = n,
                'm' => w.months = n,
                'd' => w.days = n,
                'h' => w.hours = n,
                _ => {
                    return Err(format!(
                        "{s:?}: unit {c:?} is not one of y, m, d, h (e.g. 1y5m7d2h)"
                    ))
                }
            }
        }
        if !num.is_empty() || seen.is_empty() {
            return Err(format!("{s:?}: expected a duration like 1y5m7d2h"));
        }
        Ok(w)
    }

    /// `t` minus this duration, in calendar terms.
    pub fn before(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let months = self.years.saturating_mul(12).saturating_add(self.months);
        let t = t
            .checked_sub_months(Months::new(months))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        t - Duration::days(i64::from(self.days)) - Duration::hours(i64::from(self.hours))
    }
}

impl fmt::Display for Within {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, u) in [
            (self.years, 'y'),
            (self.months, 'm'),
            (self.days, 'd'),
            (self.hours, 'h'),
        ] {
            if n > 0 {
                write!(f, "{n}{u}")?;
            }
        }
        Ok(())
    }
}

/// How many of each to keep. The default is the built-in policy: 7 daily, 4 weekly, 12 monthly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Keep {
    pub last: u32,
    pub hourly: u32,
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
    pub yearly: u32,
    #[serde(skip)]
    pub within: Option<Within>,
}

impl Default for Keep {
    fn default() -> Keep {
        Keep {
            last: 0,
            hourly: 0,
            daily: 7,
            weekly: 4,
            monthly: 12,
            yearly: 0,
            within: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Last,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
    Within,
    /// Fewer periods than a calendar rule asks for: the oldest is kept as well.
    Oldest,
    /// Dated after `now`: duration rules cannot judge it.
    Future,
    /// The newest snapshot, whatever the rules say.
    Newest,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Last => "last",
            Reason::Hourly => "hourly",
            Reason::Daily => "daily",
            Reason::Weekly => "weekly",
            Reason::Monthly => "monthly",
            Reason::Yearly => "yearly",
            Reason::Within => "within",
            Reason::Oldest => "oldest",
            Reason::Future => "future",
            Reason::Newest => "newest",
        }
    }
}

/// One snapshot's verdict; `reasons` is empty for those to delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub id: String,
    pub created: DateTime<Utc>,
    pub reasons: Vec<Reason>,
}

impl Verdict {
    pub fn keep(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// The period a snapshot falls in for a calendar rule, as one comparable number.
fn bucket(reason: Reason, t: DateTime<Utc>) -> i64 {
    let (y, m, d, h) = (
        i64::from(t.year()),
        i64::from(t.month()),
        i64::from(t.day()),
        i64::from(t.hour()),
    );
    match reason {
        Reason::Hourly => ((y * 100 + m) * 100 + d) * 100 + h,
        Reason::Daily => (y * 100 + m) * 100 + d,
        Reason::Weekly => {
            let w = t.iso_week();
            i64::from(w.year()) * 100 + i64::from(w.week())
        }
        Reason::Monthly => y * 100 + m,
        Reason::Yearly => y,
        _ => 0,
    }
}

/// Decides, for every snapshot, whether it is kept and by which rules. Newest first.
pub fn plan(snaps: &[Snap], keep: &Keep, now: DateTime<Utc>) -> Vec<Verdict> {
    let mut order: Vec<&Snap> = snaps.iter().collect();
    // Newest first; ties broken by id so the plan never depends on the input order.
    order.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.id.cmp(&a.id)));

    let calendar = [
        (Reason::Hourly, keep.hourly),
        (Reason::Daily, keep.daily),
        (Reason::Weekly, keep.weekly),
        (Reason::Monthly, keep.monthly),
        (Reason::Yearly, keep.yearly),
    ];
    let mut left: Vec<u32> = calendar.iter().map(|(_, n)| *n).collect();
    let mut last_bucket: Vec<Option<i64>> = vec![None; calendar.len()];
    let mut last_left = keep.last;
    let newest = order.iter().find(|s| s.created <= now).map(|s| s.created);
    let within_from = keep.within.zip(newest).map(|(w, n)| w.before(n));

    let mut out: Vec<Verdict> = Vec::with_capacity(order.len());
    for (i, s) in order.iter().enumerate() {
        let mut reasons = Vec::new();
        if i == 0 {
            reasons.push(Reason::Newest);
        }
        if s.created > now {
            reasons.push(Reason::Future);
        } else {
            if last_left > 0 {
                last_left -= 1;
                reasons.push(Reason::Last);
            }
            for (k, (reason, _)) in calendar.iter().enumerate() {
                if left[k] == 0 {
                    continue;
                }
                let b = bucket(*reason, s.created);
                if last_bucket[k] != Some(b) {
                    last_bucket[k] = Some(b);
                    left[k] -= 1;
                    reasons.push(*reason);
                }
            }
            if within_from.is_some_and(|from| s.created >= from) {
                reasons.push(Reason::Within);
            }
        }
        out.push(Verdict {
            id: s.id.clone(),
            created: s.created,
            reasons,
        });
    }

    // A calendar rule that ran out of snapshots before its count keeps the oldest one too.
    let unsatisfied = calendar
        .iter()
        .zip(&left)
        .any(|((_, asked), l)| *asked > 0 && *l > 0);
    if unsatisfied {
        if let Some(oldest) = out.iter_mut().rev().find(|v| v.created <= now) {
            oldest.reasons.push(Reason::Oldest);
        }
    }
    for v in &mut out {
        v.reasons.sort();
        v.reasons.dedup();
    }
    out
}

/// The ids to delete this run, oldest first, at most `max`; and how many more are deferred.
pub fn deletions(verdicts: &[Verdict], max: usize) -> (Vec<&Verdict>, usize) {
    let mut doomed: Vec<&Verdict> = verdicts.iter().filter(|v| !v.keep()).collect();
    doomed.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    let deferred = doomed.len().saturating_sub(max);
    doomed.truncate(max);
    (doomed, deferred)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_parses_restic_durations() {
        assert_eq!(
            Within::parse("2y5m7d3h"),
            Ok(Within {
                years: 2,
                months: 5,
                days: 7,
                hours: 3
            })
        );
        assert_eq!(
            Within::parse("7d"),
            Ok(Within {
                days: 7,
                ..Within::default()
            })
        );
        assert!(Within::parse("1w").is_err());
        assert!(Within::parse("7").is_err());
        assert!(Within::parse("d").is_err());
        assert!(Within::parse("1d2d").is_err());
        assert_eq!(
            Within::parse("1y2h").map(|w| w.to_string()),
            Ok("1y2h".to_string())
        );
    }
}
