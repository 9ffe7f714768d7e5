//! When a failed delivery is tried again: a schedule of delays after each failure, jittered,
//! with a provider's `retry-after` honoured up to a cap. Pure: the clock and the random draw
//! are passed in, so tests drive it exactly.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

/// The delays between tries: after the first failure wait `delays[0]`, after the second
/// `delays[1]`, ...; once every delay is used, the next failure dead-letters the delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

/// The most a provider's `retry-after` may push one retry back.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// The most retries a schedule may hold, and the longest delay in one.
const MAX_RETRIES: usize = 32;
const MAX_DELAY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A retry schedule that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// A delay is not a whole number of seconds.
    #[error(
        "retry delay `{0}` is not a whole number of seconds: write the delays in seconds, \
         comma separated, such as `5,300,1800,7200,18000,36000,36000`"
    )]
    NotSeconds(String),
    /// A delay is zero or longer than a week.
    #[error("retry delay {0} s is out of range: each delay is 1 s to 7 days (604800 s)")]
    OutOfRange(u64),
    /// Too many retries.
    #[error("{0} retries is too many: a schedule holds at most 32")]
    TooMany(usize),
}

impl RetrySchedule {
    /// Svix's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (seven retries over about
    /// 27.6 hours). Shopify's (eight retries over four hours) is [`RetrySchedule::shopify`].
    pub fn standard() -> RetrySchedule {
        RetrySchedule::from_secs(&[5, 300, 1800, 7200, 18000, 36000, 36000])
    }

    /// Eight retries over about four hours, doubling from 1 minute, as Shopify retries
    /// webhooks: 1, 2, 4, 8, 16, 32, 64 and 113 minutes (240 minutes in all).
    pub fn shopify() -> RetrySchedule {
        RetrySchedule::from_secs(&[60, 120, 240, 480, 960, 1920, 3840, 6780])
    }

    /// A schedule from delays in seconds (unchecked: for constants).
    fn from_secs(secs: &[u64]) -> RetrySchedule {
        RetrySchedule {
            delays: secs.iter().map(|s| Duration::from_secs(*s)).collect(),
        }
    }

    /// A checked schedule from delays (1 s to 7 days each, at most 32).
    pub fn new(delays: Vec<Duration>) -> Result<RetrySchedule, ScheduleError> {
        if delays.len() > MAX_RETRIES {
            return Err(ScheduleError::TooMany(delays.len()));
        }
        if let Some(bad) = delays
            .iter()
            .find(|d| d.is_zero() || **d > MAX_DELAY || d.subsec_nanos() != 0)
        {
            return Err(ScheduleError::OutOfRange(bad.as_secs()));
        }
        Ok(RetrySchedule { delays })
    }

    /// The delays, in order.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// How many retries after the first try.
    pub fn retries(&self) -> usize {
        self.delays.len()
    }

    /// The whole span from the first try to the last, without jitter.
    pub fn span(&self) -> Duration {
        self.delays.iter().sum()
    }

    /// When to try again after `attempts` tries have failed, at `now_ms`, or `None` when the
    /// delivery is out of tries (dead-letter it). `unit` in [0, 1) is the random draw: the
    /// delay is jittered by ±20% so deliveries that failed together do not retry together.
    /// A provider's `retry_after` pushes the retry back (never earlier), up to
    /// [`MAX_RETRY_AFTER`].
    pub fn next_try(
        &self,
        attempts: u32,
        now_ms: i64,
        unit: f64,
        retry_after: Option<Duration>,
    ) -> Option<i64> {
        let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
        let base = *self.delays.get(index)?;
        let factor = 0.8 + 0.4 * unit.clamp(0.0, 1.0);
        let jittered = base.mul_f64(factor);
        let wait = match retry_after {
            Some(asked) => jittered.max(asked.min(MAX_RETRY_AFTER)),
            None => jittered,
        };
        Some(now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)))
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule::standard()
    }
}

/// Seconds, comma separated, as the database and the CLI spell a schedule.
impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs: Vec<String> = self
            .delays
            .iter()
            .map(|d| d.as_secs().to_string())
            .collect();
        f.write_str(&secs.join(","))
    }
}

impl FromStr for RetrySchedule {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return RetrySchedule::new(Vec::new());
        }
        let delays = text
            .split(',')
            .map(|part| {
                let part = part.trim();
                part.parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| ScheduleError::NotSeconds(part.chars().take(32).collect()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        RetrySchedule::new(delays)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_schedule_is_svix_and_the_shopify_one_spans_four_hours() {
        assert_eq!(
            RetrySchedule::standard().to_string(),
            "5,300,1800,7200,18000,36000,36000"
        );
        assert_eq!(RetrySchedule::shopify().retries(), 8);
        assert_eq!(
            RetrySchedule::shopify().span(),
            Duration::from_secs(4 * 3600)
        );
    }

    #[test]
    fn each_failure_waits_its_delay_jittered_by_a_fifth_then_the_delivery_is_dead() {
        let s = RetrySchedule::standard();
        assert_eq!(s.next_try(1, 1_000, 0.5, None), Some(1_000 + 5_000));
        assert_eq!(s.next_try(1, 0, 0.0, None), Some(4_000));
        assert_eq!(s.next_try(1, 0, 1.0, None), Some(6_000));
        assert_eq!(s.next_try(2, 0, 0.5, None), Some(300_000));
        assert_eq!(s.next_try(7, 0, 0.5, None), Some(36_000_000));
        assert_eq!(s.next_try(8, 0, 0.5, None), None, "out of tries");
        assert_eq!(s.next_try(0, 0, 0.5, None), None, "no try failed yet");
    }

    #[test]
    fn retry_after_pushes_a_retry_back_up_to_the_cap_never_earlier() {
        let s = RetrySchedule::standard();
        let later = Some(Duration::from_secs(120));
        assert_eq!(s.next_try(1, 0, 0.5, later), Some(120_000));
        let sooner = Some(Duration::from_secs(1));
        assert_eq!(s.next_try(2, 0, 0.5, sooner), Some(300_000));
        let huge = Some(Duration::from_secs(86_400));
        assert_eq!(s.next_try(1, 0, 0.5, huge), Some(3_600_000));
    }

    #[test]
    fn schedules_parse_from_seconds_and_bad_ones_say_how_to_write_them() {
        let s: RetrySchedule = "1, 2,3".parse().unwrap();
        assert_eq!(s.to_string(), "1,2,3");
        assert_eq!("".parse::<RetrySchedule>().unwrap().retries(), 0);
        let err = "5,5m".parse::<RetrySchedule>().unwrap_err().to_string();
        assert!(err.contains("`5m`") && err.contains("seconds"), "{err}");
        assert!(matches!(
            "0".parse::<RetrySchedule>(),
            Err(ScheduleError::OutOfRange(0))
        ));
        assert!(matches!(
            "604801".parse::<RetrySchedule>(),
            Err(ScheduleError::OutOfRange(604801))
        ));
        let many = vec!["1"; 33].join(",");
        assert!(matches!(
            many.parse::<RetrySchedule>(),
            Err(ScheduleError::TooMany(33))
        ));
    }
}
