//! How the use cases' errors are answered over HTTP. The use cases know nothing of
//! HTTP; this is where their failures become statuses.

use super::ApiError;
use crate::usecases::call_outcome::CallOutcomeError;
use crate::usecases::inbound::InboundError;

impl From<CallOutcomeError> for ApiError {
    fn from(error: CallOutcomeError) -> Self {
        match error {
            CallOutcomeError::Store(error) => error.into(),
        }
    }
}

impl From<InboundError> for ApiError {
    fn from(error: InboundError) -> Self {
        match error {
            InboundError::Store(error) => error.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
