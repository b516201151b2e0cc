//! One step of a background worker. The dispatcher, the scheduler and the agent runner
//! each expose `run_once`, which does the work due now and says whether there was any;
//! their loops call it until it is idle and then wait, and tests call it directly
//! (draining a worker instead of sleeping while it runs in the background).

/// What one `run_once` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Handled this many items (sends, leads, conversations).
    Worked(usize),
    /// Nothing was due.
    Idle,
}

impl Step {
    /// `Worked(n)` for `n > 0`, else `Idle`.
    pub fn from_count(count: usize) -> Self {
        if count == 0 {
            Step::Idle
        } else {
            Step::Worked(count)
        }
    }

    pub fn is_idle(self) -> bool {
        self == Step::Idle
    }
}
