//! The use cases: what the product does, once, for every caller. HTTP handlers, the
//! workers (scheduler, dispatcher, agent runner) and the console call these functions;
//! each takes data already loaded, decides, and says what to store, with an error type
//! of its own that handlers map to an HTTP answer. Nothing here imports from `routes`.
//!
//! - [`outbound`]: opening an outbound conversation (LeadScout, a campaign's attempt,
//!   an advisor's reply).
//! - [`inbound`]: receiving a message a lead wrote.
//! - [`call_outcome`]: recording how a call ended, and what it means for its lead.
//! - [`hand_off`]: handing a conversation to a human advisor.
//! - [`logins`]: giving people logins to the console.
//! - [`settings`]: configuring a workspace (users, teams, channels, templates, the
//!   agent, webhook endpoints, API keys).

pub mod call_outcome;
pub mod hand_off;
pub mod inbound;
pub mod logins;
pub mod outbound;
pub mod settings;
