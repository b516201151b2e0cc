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

impl From<crate::usecases::campaigns::CampaignError> for ApiError {
    fn from(error: crate::usecases::campaigns::CampaignError) -> Self {
        use crate::usecases::campaigns::CampaignError;
        match error {
            CampaignError::Invalid(errors) => errors.into(),
            CampaignError::UnknownChannel(id) => ApiError::NotFound {
                detail: format!("no channel '{id}' in this workspace"),
                field: Some("channelId".to_owned()),
            },
            CampaignError::Completed => ApiError::Conflict {
                detail: "the campaign is COMPLETED".into(),
                field: None,
            },
            CampaignError::Deleted => ApiError::not_found("the campaign was deleted meanwhile"),
            CampaignError::Store(error) => error.into(),
        }
    }
}

impl From<crate::usecases::number_holds::HoldError> for ApiError {
    fn from(error: crate::usecases::number_holds::HoldError) -> Self {
        use crate::usecases::number_holds::HoldError;
        match error {
            HoldError::Blocked => ApiError::Conflict {
                detail: error.to_string(),
                field: None,
            },
            HoldError::Deleted => ApiError::not_found(error.to_string()),
            HoldError::Store(error) => error.into(),
        }
    }
}

impl From<crate::usecases::outgoing_number::SelectionError> for ApiError {
    fn from(error: crate::usecases::outgoing_number::SelectionError) -> Self {
        use crate::usecases::outgoing_number::SelectionError;
        match error {
            SelectionError::Invalid(error) => error.into(),
            SelectionError::Unknown { field, what } => ApiError::NotFound {
                detail: format!("no {what} with this id in the workspace"),
                field: Some(field),
            },
            SelectionError::Store(error) => error.into(),
        }
    }
}
