//! The one place that reads the system clock. Tests use a fixed clock and move it
//! forward instead of sleeping.

use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Fixed(Arc<Mutex<OffsetDateTime>>),
}

impl Clock {
    /// A clock frozen at `at` until [`Clock::advance`] moves it.
    pub fn fixed(at: OffsetDateTime) -> Self {
        Clock::Fixed(Arc::new(Mutex::new(at)))
    }

    #[expect(clippy::disallowed_methods, reason = "the clock is the one caller")]
    pub fn now(&self) -> OffsetDateTime {
        match self {
            Clock::System => OffsetDateTime::now_utc(),
            Clock::Fixed(at) => *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Moves a fixed clock forward; a system clock cannot be moved.
    pub fn advance(&self, by: Duration) {
        if let Clock::Fixed(at) = self {
            let mut at = at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *at += by;
        }
    }
}
