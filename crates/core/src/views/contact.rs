//! A contact as the API returns it (the Bridge shape).

use serde::Serialize;
use utoipa::ToSchema;

use crate::contact::{ContactType, LanguageCode};

/// A contact as the Bridge API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ContactResponse)]
pub struct ContactView {
    pub id: String,
    pub workspace_id: String,
    #[serde(rename = "type")]
    pub contact_type: ContactType,
    pub created_at: String,
    pub updated_at: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub cellphone: Option<String>,
    pub custom_attributes: Vec<CustomAttributeValue>,
    pub language_code: Option<LanguageCode>,
    /// The id of the user who owns this contact.
    pub owner_id: Option<String>,
}

/// One custom attribute of a contact, by its key.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CustomAttributeValue {
    pub key: String,
    /// Open attributes: their text; closed ones: the chosen options' labels.
    pub values: Vec<String>,
}
