//! Stepping the agent runner from the agent suites: their servers start with the
//! background agent off, and a test's waits drain the runner (each pass runs to its
//! end inside `run_once`), so what the agent decided is there to read at once, with
//! no polling and no sleeping.

use leadline_server::agent_worker::AgentRunner;
use leadline_server::worker_step::Step;

use super::TestApp;

/// More steps than any suite's conversation needs: a runner still working after them
/// is looping on a task that never ends.
const MOST_STEPS: usize = 100;

impl TestApp {
    /// The server's agent runner.
    pub fn agent_runner(&self) -> &AgentRunner {
        self.server
            .as_ref()
            .expect("the server runs")
            .agent_runner()
    }

    /// Runs the agent's passes until none is due (on the store's clock); how many ran.
    pub async fn drain_agent(&self) -> usize {
        let mut passes = 0;
        for _ in 0..MOST_STEPS {
            match self
                .agent_runner()
                .run_once()
                .await
                .expect("the agent runner reaches the store")
            {
                Step::Worked(count) => passes += count,
                Step::Idle => return passes,
            }
        }
        panic!("the agent runner still had work after {MOST_STEPS} steps ({passes} passes)");
    }
}
