//! One wall-clock reading plus a monotonic clock, so that times never run backwards (SPEC §4).

use crate::DiskError;
use forensic_bundle::time::Timestamp;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A clock for one run: the wall-clock time read once at creation, advanced by a monotonic
/// [`Instant`]. A step of the system clock during the run (NTP, an operator) cannot make two
/// readings run backwards.
#[derive(Debug, Clone)]
pub struct Clock {
    wall_ns: i128,
    start: Instant,
    first: Timestamp,
}

impl Clock {
    /// Reads the wall clock now.
    ///
    /// # Errors
    /// [`DiskError::Clock`] when the system clock reads a time that SPEC §5 cannot express
    /// (before year 0 or after 9999).
    pub fn new() -> Result<Clock, DiskError> {
        Clock::starting_at(SystemTime::now())
    }

    /// A clock whose first reading is `wall` (for tests and replays).
    ///
    /// # Errors
    /// [`DiskError::Clock`] when `wall` cannot be written in the form of SPEC §5.
    pub fn starting_at(wall: SystemTime) -> Result<Clock, DiskError> {
        let wall_ns = match wall.duration_since(UNIX_EPOCH) {
            Ok(d) => i128::try_from(d.as_nanos()).unwrap_or(i128::MAX),
            Err(e) => i128::try_from(e.duration().as_nanos()).map_or(i128::MIN, |n| -n),
        };
        let first = Timestamp::from_unix_nanos(wall_ns).map_err(DiskError::Clock)?;
        Ok(Clock {
            wall_ns,
            start: Instant::now(),
            first,
        })
    }

    /// The current time: the first reading plus the monotonic time elapsed since.
    ///
    /// Never earlier than a previous reading of the same clock while the readings stay within
    /// year 9999; past that (a clock set to the last hours of 9999) the first reading is returned.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_unix_nanos(self.now_unix_nanos()).unwrap_or_else(|_| self.first.clone())
    }

    /// The current time as nanoseconds since the Unix epoch (same reading as [`Clock::now`]).
    pub fn now_unix_nanos(&self) -> i128 {
        let elapsed = i128::try_from(self.start.elapsed().as_nanos()).unwrap_or(i128::MAX);
        self.wall_ns.saturating_add(elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn readings_never_run_backwards_and_start_at_the_wall_time() -> Result<(), DiskError> {
        let wall = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        let c = Clock::starting_at(wall)?;
        let a = c.now();
        assert!(a.as_str().starts_with("2023-11-14T22:13:2"), "{a}");
        assert!(a.as_str() >= "2023-11-14T22:13:20.123456789Z");
        let mut prev = a;
        for _ in 0..1000 {
            let t = c.now();
            assert!(t >= prev, "{t} < {prev}");
            prev = t;
        }
        Ok(())
    }

    #[test]
    fn times_before_the_epoch_work_and_absurd_clocks_are_refused() -> Result<(), DiskError> {
        let before = UNIX_EPOCH - Duration::from_secs(86_400);
        assert!(
            Clock::starting_at(before)?
                .now()
                .as_str()
                .starts_with("1969-12-31T00:00:0")
        );
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert!(matches!(Clock::starting_at(far), Err(DiskError::Clock(_))));
        Ok(())
    }
}
