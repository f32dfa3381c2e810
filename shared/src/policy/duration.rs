//! The one way a policy writes a duration: humantime (`30s`, `10m`, `4h`), at most ten years, so
//! time arithmetic on it stays far from overflow. Whether zero makes sense is the section's call.

use std::time::Duration;

use super::Fields;
use super::PolicyError;

/// No duration in a policy may exceed this.
const TEN_YEARS: Duration = Duration::from_secs(3650 * 86_400);

pub(super) fn parse(fields: &Fields, field: &str, text: &str) -> Result<Duration, PolicyError> {
    let d = humantime::parse_duration(text).map_err(|e| {
        fields.invalid(
            field,
            format!("{text:?} is not a duration like \"10m\": {e}"),
        )
    })?;
    if d > TEN_YEARS {
        return Err(fields.invalid(field, "must be at most ten years"));
    }
    Ok(d)
}

/// A duration given outside a policy (a command line's `--for 2h`), by the same rules.
pub fn parse_alone(field: &str, text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text)
        .map_err(|e| format!("{field} {text:?} is not a duration like \"2h\" or \"30m\": {e}"))?;
    if d > TEN_YEARS {
        return Err(format!("{field} must be at most ten years"));
    }
    Ok(d)
}

/// A policy duration as chrono's, for date arithmetic. Policy durations are at most ten years,
/// so this never saturates.
pub fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(3650))
}
