//! Giving people logins to the console: inviting a user (created with a one-time
//! password they replace at their first login) and setting a password. The command
//! line, the first start of `leadline serve` and the console's settings all call these.

use leadline_core::user::Role;
use leadline_core::{Email, UserId, WorkspaceId};
use leadline_store::users::{NewUser, User};
use leadline_store::{Store, StoreError};

use crate::auth::password;

/// Why a login cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The email is a user of this workspace already.
    #[error("email: {0} is already a user of this workspace")]
    EmailTaken(Email),
    /// The email can log in to another workspace: a login's email names one user.
    #[error("email: {0} already logs in to another workspace; use another address")]
    LoginTaken(Email),
    #[error("{0}")]
    WeakPassword(String),
    #[error("no such user in this workspace")]
    UnknownUser,
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Store(StoreError),
}

/// A user invited, with the one-time password to hand them.
#[derive(Debug, Clone)]
pub struct Invited {
    pub user: User,
    pub one_time_password: String,
}

/// Creates a user of the workspace who can log in with a one-time password.
pub async fn invite(
    store: &Store,
    workspace_id: WorkspaceId,
    email: Email,
    role: Role,
    first_name: Option<String>,
    last_name: Option<String>,
) -> Result<Invited, LoginError> {
    if store
        .login(&email)
        .await
        .map_err(LoginError::Store)?
        .is_some()
    {
        return Err(LoginError::LoginTaken(email));
    }
    let new = NewUser {
        email: email.clone(),
        first_name,
        last_name,
        role,
    };
    let user = match store.create_user(workspace_id, new).await {
        Ok(user) => user,
        Err(error) if error.is_duplicate_of("email") => return Err(LoginError::EmailTaken(email)),
        Err(error) => return Err(LoginError::Store(error)),
    };
    let one_time_password = password::one_time();
    set_hash(
        store,
        workspace_id,
        user.id,
        &email,
        password::hash(one_time_password.clone()).await?,
        true,
    )
    .await?;
    Ok(Invited {
        user,
        one_time_password,
    })
}

/// Sets a user's own password (checked against the rules) and ends their sessions.
pub async fn set_password(
    store: &Store,
    user: &User,
    new_password: String,
) -> Result<u64, LoginError> {
    password::check_new(&new_password).map_err(LoginError::WeakPassword)?;
    let hash = password::hash(new_password).await?;
    set_hash(store, user.workspace_id, user.id, &user.email, hash, false).await?;
    store
        .revoke_user_sessions(user.id, None)
        .await
        .map_err(LoginError::Store)
}

async fn set_hash(
    store: &Store,
    workspace_id: WorkspaceId,
    user_id: UserId,
    email: &Email,
    hash: String,
    must_change: bool,
) -> Result<(), LoginError> {
    match store
        .set_user_password(workspace_id, user_id, &hash, must_change)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(LoginError::UnknownUser),
        Err(error) if error.is_duplicate_of("users") => Err(LoginError::LoginTaken(email.clone())),
        Err(error) => Err(LoginError::Store(error)),
    }
}
