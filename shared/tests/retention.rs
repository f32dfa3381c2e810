//! Retention as a pure function: restic's documented examples, and properties for any history.

use std::collections::BTreeSet;

use axiom_ops::retention::{deletions, plan, Keep, Reason, Snap, Within};
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("valid date")
}

fn snaps(times: &[DateTime<Utc>]) -> Vec<Snap> {
    times
        .iter()
        .map(|t| Snap {
            id: format!("s-{}", t.format("%Y%m%d-%H%M%S")),
            created: *t,
        })
        .collect()
}

fn kept(snaps: &[Snap], keep: &Keep, now: DateTime<Utc>) -> BTreeSet<DateTime<Utc>> {
    plan(snaps, keep, now)
        .into_iter()
        .filter(|v| v.keep())
        .map(|v| v.created)
        .collect()
}

fn only(f: impl FnOnce(&mut Keep)) -> Keep {
    let mut k = Keep {
        last: 0,
        hourly: 0,
        daily: 0,
        weekly: 0,
        monthly: 0,
        yearly: 0,
        within: None,
    };
    f(&mut k);
    k
}

/// restic's docs: one backup every Sunday for 12 weeks; `--keep-daily 4` keeps the last four.
#[test]
fn restic_example_twelve_sundays_keep_daily_4() {
    let sundays: Vec<_> = (0..12)
        .map(|i| at(2019, 9, 1, 11) + Duration::weeks(i))
        .collect();
    let got = kept(
        &snaps(&sundays),
        &only(|k| k.daily = 4),
        at(2019, 11, 18, 0),
    );
    let want: BTreeSet<_> = [
        at(2019, 10, 27, 11),
        at(2019, 11, 3, 11),
        at(2019, 11, 10, 11),
        at(2019, 11, 17, 11),
    ]
    .into();
    assert_eq!(got, want);
}

/// restic's docs: daily backups for years with `--keep-daily 7 --keep-weekly 5 --keep-monthly 12
/// --keep-yearly 75` keep 7 daily, 4 more weekly, 11 or 12 more monthly, 74 or 75 more yearly.
#[test]
fn restic_example_daily_for_years() {
    // A Sunday in December, so the 7 dailies are exactly one ISO week and the 12 months one
    // calendar year, as the docs' arithmetic assumes: then exactly one monthly and one yearly
    // pick coincide with a daily (12 or 11 → 11, 75 or 74 → 74).
    let end = at(2026, 12, 27, 2);
    // 100 years is 36,500 snapshots; the arithmetic is the same for every day of every year.
    let days: Vec<_> = (0..(100 * 365)).map(|i| end - Duration::days(i)).collect();
    let s = snaps(&days);
    let keep = only(|k| {
        k.daily = 7;
        k.weekly = 5;
        k.monthly = 12;
        k.yearly = 75;
    });
    let verdicts = plan(&s, &keep, end);
    let by_daily = verdicts
        .iter()
        .filter(|v| v.reasons.contains(&Reason::Daily))
        .count();
    let weekly_only = verdicts
        .iter()
        .filter(|v| v.reasons.contains(&Reason::Weekly) && !v.reasons.contains(&Reason::Daily))
        .count();
    let monthly_only = verdicts
        .iter()
        .filter(|v| {
            v.reasons.contains(&Reason::Monthly)
                && !v
                    .reasons
                    .iter()
                    .any(|r| matches!(r, Reason::Daily | Reason::Weekly))
        })
        .count();
    let yearly_only = verdicts
        .iter()
        .filter(|v| {
            v.reasons.contains(&Reason::Yearly)
                && !v
                    .reasons
                    .iter()
                    .any(|r| matches!(r, Reason::Daily | Reason::Weekly | Reason::Monthly))
        })
        .count();
    assert_eq!(by_daily, 7);
    assert_eq!(weekly_only, 4, "the 7 dailies already include 1 weekly");
    assert_eq!(monthly_only, 11);
    assert_eq!(yearly_only, 74);
    assert_eq!(
        verdicts.iter().filter(|v| v.keep()).count(),
        7 + 4 + monthly_only + yearly_only
    );
}

/// Weeks are ISO weeks (Monday to Sunday), months calendar months, all in UTC.
#[test]
fn calendar_boundaries_are_iso_weeks_and_utc() {
    // Sunday 23:30 and Monday 00:30 UTC are different ISO weeks; Monday 00:30 and Sunday 22:00
    // of the same week are one.
    let s = snaps(&[
        at(2026, 11, 22, 23),
        at(2026, 11, 23, 0),
        at(2026, 11, 29, 22),
    ]);
    let got = kept(&s, &only(|k| k.weekly = 2), at(2026, 12, 1, 0));
    assert_eq!(got, [at(2026, 11, 22, 23), at(2026, 11, 29, 22)].into());
    // 31 Jan and 1 Feb are different months.
    let s = snaps(&[at(2026, 1, 31, 23), at(2026, 2, 1, 0)]);
    assert_eq!(
        kept(&s, &only(|k| k.monthly = 2), at(2026, 3, 1, 0)).len(),
        2
    );
}

/// `--keep-within` is relative to the latest snapshot, not to now.
#[test]
fn keep_within_is_relative_to_the_newest_snapshot() {
    let days: Vec<_> = (0..30)
        .map(|i| at(2026, 1, 1, 2) + Duration::days(i))
        .collect();
    let keep = only(|k| k.within = Within::parse("7d").ok());
    let got = kept(&snaps(&days), &keep, at(2026, 11, 26, 0));
    assert_eq!(got.len(), 8, "the newest and the 7 days before it");
    assert_eq!(got.iter().next().copied(), Some(at(2026, 1, 23, 2)));
}

/// Not enough periods for a calendar rule: the oldest is kept as well (restic ≥ 0.17).
#[test]
fn too_few_periods_keeps_the_oldest() {
    let s = snaps(&[at(2026, 11, 1, 2), at(2026, 11, 1, 3), at(2026, 11, 2, 2)]);
    let v = plan(&s, &only(|k| k.daily = 7), at(2026, 11, 3, 0));
    let oldest = v
        .iter()
        .find(|x| x.created == at(2026, 11, 1, 2))
        .expect("present");
    assert_eq!(oldest.reasons, vec![Reason::Oldest]);
    let middle = v
        .iter()
        .find(|x| x.created == at(2026, 11, 1, 3))
        .expect("present");
    assert_eq!(middle.reasons, vec![Reason::Daily]);
}

#[test]
fn future_snapshots_are_never_removed_and_the_newest_always_kept() {
    let s = snaps(&[at(2026, 1, 1, 0), at(2026, 1, 2, 0), at(2030, 1, 1, 0)]);
    let v = plan(&s, &only(|_| {}), at(2026, 11, 26, 0));
    let reasons: Vec<_> = v.iter().map(|x| x.reasons.clone()).collect();
    assert_eq!(
        reasons,
        vec![vec![Reason::Future, Reason::Newest], vec![], vec![]]
    );
}

#[test]
fn deletions_are_oldest_first_and_capped() {
    let days: Vec<_> = (0..100)
        .map(|i| at(2026, 1, 1, 2) + Duration::days(i))
        .collect();
    let v = plan(&snaps(&days), &Keep::default(), at(2026, 11, 26, 0));
    let (doomed, deferred) = deletions(&v, 50);
    assert_eq!(doomed.len(), 50);
    assert_eq!(deferred, v.iter().filter(|x| !x.keep()).count() - 50);
    assert!(doomed.windows(2).all(|w| w[0].created <= w[1].created));
    // 100 days cannot fill 12 months: the oldest is kept, deletions start with the next.
    assert!(v
        .iter()
        .any(|x| x.created == at(2026, 1, 1, 2) && x.reasons == vec![Reason::Oldest]));
    assert_eq!(doomed[0].created, at(2026, 1, 2, 2));
}

// ---- properties -------------------------------------------------------------------------

fn arb_history() -> impl Strategy<Value = Vec<Snap>> {
    // Up to 400 snapshots over about two years, at arbitrary hours.
    prop::collection::vec(0i64..(2 * 365 * 24), 1..400).prop_map(|hours| {
        let base = at(2025, 1, 1, 0);
        let mut ts: Vec<_> = hours
            .into_iter()
            .map(|h| base + Duration::hours(h))
            .collect();
        ts.sort();
        ts.dedup();
        snaps(&ts)
    })
}

fn arb_keep() -> impl Strategy<Value = Keep> {
    (
        0u32..5,
        0u32..30,
        0u32..15,
        0u32..10,
        0u32..15,
        0u32..3,
        prop::option::of(0u32..40),
    )
        .prop_map(
            |(last, hourly, daily, weekly, monthly, yearly, within_days)| Keep {
                last,
                hourly,
                daily,
                weekly,
                monthly,
                yearly,
                within: within_days.map(|d| Within {
                    days: d,
                    ..Within::default()
                }),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn never_deletes_the_newest(s in arb_history(), keep in arb_keep()) {
        let now = at(2027, 1, 1, 0);
        let newest = s.iter().map(|x| x.created).max();
        let v = plan(&s, &keep, now);
        prop_assert!(v.iter().any(|x| Some(x.created) == newest && x.keep()));
    }

    #[test]
    fn a_second_application_deletes_nothing_more(s in arb_history(), keep in arb_keep()) {
        let now = at(2027, 1, 1, 0);
        let first: Vec<Snap> = plan(&s, &keep, now).into_iter().filter(|v| v.keep())
            .map(|v| Snap { id: v.id, created: v.created }).collect();
        let second = plan(&first, &keep, now);
        prop_assert!(second.iter().all(|v| v.keep()), "second pass would delete {:?}",
            second.iter().filter(|v| !v.keep()).map(|v| &v.id).collect::<Vec<_>>());
    }

    /// Every rule's picks survive: the newest snapshot of each of the last n periods with
    /// snapshots, the n newest, and all within the duration of the newest.
    #[test]
    fn every_rules_picks_survive(s in arb_history(), keep in arb_keep()) {
        let now = at(2027, 1, 1, 0);
        let kept: BTreeSet<_> = plan(&s, &keep, now).into_iter().filter(|v| v.keep()).map(|v| v.created).collect();
        let mut newest_first: Vec<_> = s.iter().map(|x| x.created).collect();
        newest_first.sort_by(|a, b| b.cmp(a));
        for t in newest_first.iter().take(keep.last as usize) {
            prop_assert!(kept.contains(t), "keep-last lost {}", t);
        }
        // Periods written as chrono formats: an independent statement of restic's buckets.
        let periods = [
            (keep.hourly, "%Y%m%d%H"),
            (keep.daily, "%Y%m%d"),
            (keep.weekly, "%G%V"),
            (keep.monthly, "%Y%m"),
            (keep.yearly, "%Y"),
        ];
        for (n, format) in periods {
            let mut seen = Vec::new();
            for t in &newest_first {
                let k = t.format(format).to_string();
                if !seen.contains(&k) {
                    if seen.len() == n as usize { break; }
                    seen.push(k);
                    prop_assert!(kept.contains(t), "a period's newest was lost: {}", t);
                }
            }
        }
        if let (Some(w), Some(newest)) = (keep.within, newest_first.first()) {
            let from = w.before(*newest);
            for t in newest_first.iter().filter(|t| **t >= from) {
                prop_assert!(kept.contains(t), "keep-within lost {}", t);
            }
        }
    }

    /// The plan does not depend on the order AWS lists snapshots in.
    #[test]
    fn input_order_does_not_matter(s in arb_history(), keep in arb_keep()) {
        let now = at(2027, 1, 1, 0);
        let mut rev = s.clone();
        rev.reverse();
        prop_assert_eq!(plan(&s, &keep, now), plan(&rev, &keep, now));
    }
}
