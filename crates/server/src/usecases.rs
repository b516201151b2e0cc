//! The use cases: what the product does, once, for every caller. HTTP handlers, the
//! workers (scheduler, dispatcher, agent runner) and the console call these functions;
//! each takes data already loaded, decides, and says what to store, with an error type
//! of its own that handlers map to an HTTP answer. Nothing here imports from `routes`.
//!
//! - [`outbound`]: opening an outbound conversation (LeadScout, a campaign's attempt,
//!   an advisor's reply).
//! - [`inbound`]: receiving a message a lead wrote.
//! - [`call_outcome`]: recording how a call ended, and what it means for its lead.
//! - [`hand_off`]: handing a conversation to a human advisor, and giving it back.
//! - [`reply`]: an advisor's reply in a conversation.
//! - [`call_log`]: logging a call made outside leadline.
//! - [`logins`]: giving people logins to the console.
//! - [`campaigns`]: checking a campaign's settings, switching its status, its progress.
//! - [`lead_import`]: reading a CSV of leads into a campaign.
//! - [`number_holds`]: pausing, blocking and resuming a number of the pool.
//! - [`number_status`]: a number's warm-up, capacity today and health.
//! - [`outgoing_number`]: which number a send would go out from, and why.
//! - [`settings`]: configuring a workspace (users, teams, channels, templates, the
//!   agent, webhook endpoints, API keys).

pub mod call_log;
pub mod call_outcome;
pub mod campaigns;
pub mod hand_off;
pub mod inbound;
pub mod lead_import;
pub mod logins;
pub mod number_holds;
pub mod number_status;
pub mod outbound;
pub mod outgoing_number;
pub mod reply;
pub mod settings;
