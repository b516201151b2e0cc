//! Teams of advisors. A team names its members in a chosen order (the position column
//! keeps it) and is what a phone number can be reserved for. Names are unique per
//! workspace. Members are checked against the workspace's users by the API; here the
//! foreign key only guarantees they exist.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use leadline_core::{TeamId, UserId, WorkspaceId};

use crate::backend::on_write;
use crate::rows::{FromStoreRow, StoreRow, fetch_all, fetch_optional, page_args, to_micros};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub description: Option<String>,
    /// In the order the client gave them.
    pub member_user_ids: Vec<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a client sets on a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamFields {
    pub name: String,
    pub description: Option<String>,
    pub member_user_ids: Vec<UserId>,
}

macro_rules! team_columns {
    () => {
        "id, workspace_id, name, description, created_at, updated_at"
    };
}

/// A team row before its members are attached.
impl FromStoreRow for Team {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Team {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            name: row.text("name")?,
            description: row.optional_text("description")?,
            member_user_ids: Vec::new(),
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

/// One membership row.
struct Member {
    team_id: TeamId,
    user_id: UserId,
}

impl FromStoreRow for Member {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Member {
            team_id: row.id("team_id")?,
            user_id: row.id("user_id")?,
        })
    }
}

impl Store {
    /// Creates a team; a taken name is [`StoreError::Duplicate`].
    pub async fn create_team(
        &self,
        workspace_id: WorkspaceId,
        fields: TeamFields,
    ) -> Result<Team, StoreError> {
        let now = self.clock.now();
        let team = Team {
            id: TeamId::new(),
            workspace_id,
            name: fields.name,
            description: fields.description,
            member_user_ids: fields.member_user_ids,
            created_at: now,
            updated_at: now,
        };
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(concat!("INSERT INTO teams (", team_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6)"))
                .bind(team.id.to_string())
                .bind(workspace_id.to_string())
                .bind(&team.name)
                .bind(team.description.as_deref())
                .bind(to_micros(now))
                .bind(to_micros(now))
                .execute(&mut *tx)
                .await?;
            for (position, user_id) in team.member_user_ids.iter().enumerate() {
                sqlx::query("INSERT INTO team_members (team_id, user_id, position) VALUES ($1, $2, $3)")
                    .bind(team.id.to_string())
                    .bind(user_id.to_string())
                    .bind(position as i64)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(team)
    }

    /// Replaces a team's name, description and members; `None` when there is no such
    /// team.
    pub async fn update_team(
        &self,
        workspace_id: WorkspaceId,
        team_id: TeamId,
        fields: TeamFields,
    ) -> Result<Option<Team>, StoreError> {
        let now = self.clock.now();
        let found = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE teams SET name = $1, description = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5",
            )
            .bind(&fields.name)
            .bind(fields.description.as_deref())
            .bind(to_micros(now))
            .bind(workspace_id.to_string())
            .bind(team_id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated > 0 {
                sqlx::query("DELETE FROM team_members WHERE team_id = $1")
                    .bind(team_id.to_string())
                    .execute(&mut *tx)
                    .await?;
                for (position, user_id) in fields.member_user_ids.iter().enumerate() {
                    sqlx::query("INSERT INTO team_members (team_id, user_id, position) VALUES ($1, $2, $3)")
                        .bind(team_id.to_string())
                        .bind(user_id.to_string())
                        .bind(position as i64)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
            updated > 0
        });
        if !found {
            return Ok(None);
        }
        self.team(workspace_id, team_id).await
    }

    /// Deletes a team. Its numbers stay in the pool, reserved for no team any more.
    pub async fn delete_team(
        &self,
        workspace_id: WorkspaceId,
        team_id: TeamId,
    ) -> Result<bool, StoreError> {
        let now = to_micros(self.clock.now());
        let deleted = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE phone_numbers SET team_id = NULL, updated_at = $1 WHERE workspace_id = $2 AND team_id = $3")
                .bind(now)
                .bind(workspace_id.to_string())
                .bind(team_id.to_string())
                .execute(&mut *tx)
                .await?;
            let deleted = sqlx::query("DELETE FROM teams WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id.to_string())
                .bind(team_id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            deleted
        });
        Ok(deleted > 0)
    }

    pub async fn team(
        &self,
        workspace_id: WorkspaceId,
        team_id: TeamId,
    ) -> Result<Option<Team>, StoreError> {
        let sql = concat!(
            "SELECT ",
            team_columns!(),
            " FROM teams WHERE workspace_id = $1 AND id = $2"
        );
        let args = vec![workspace_id.to_string().into(), team_id.to_string().into()];
        let Some(team) = fetch_optional::<Team>(&self.backend, sql, args).await? else {
            return Ok(None);
        };
        let mut teams = self.with_members(vec![team]).await?;
        Ok(teams.pop())
    }

    /// One page of the workspace's teams in creation order.
    pub async fn list_teams(
        &self,
        workspace_id: WorkspaceId,
        after: Option<TeamId>,
        limit: u32,
    ) -> Result<Vec<Team>, StoreError> {
        let sql = concat!(
            "SELECT ",
            team_columns!(),
            " FROM teams WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let teams = fetch_all(&self.backend, sql, page_args(workspace_id, after, limit)).await?;
        self.with_members(teams).await
    }

    /// The teams a user belongs to: whose queues they work in the console.
    pub async fn teams_of_user(&self, user_id: UserId) -> Result<Vec<TeamId>, StoreError> {
        let sql = "SELECT team_id, user_id FROM team_members WHERE user_id = $1 ORDER BY team_id";
        let members: Vec<Member> =
            fetch_all(&self.backend, sql, vec![user_id.to_string().into()]).await?;
        Ok(members.into_iter().map(|m| m.team_id).collect())
    }

    /// Attaches the members of `teams` (one workspace, in id order) with one query over
    /// the id range they span, rather than one query per team.
    async fn with_members(&self, mut teams: Vec<Team>) -> Result<Vec<Team>, StoreError> {
        let (Some(first), Some(last)) = (teams.first(), teams.last()) else {
            return Ok(teams);
        };
        let sql = "SELECT m.team_id, m.user_id FROM team_members m JOIN teams t ON t.id = m.team_id \
                   WHERE t.workspace_id = $1 AND t.id >= $2 AND t.id <= $3 ORDER BY m.team_id, m.position";
        let args = vec![
            first.workspace_id.to_string().into(),
            first.id.to_string().into(),
            last.id.to_string().into(),
        ];
        let mut members: HashMap<TeamId, Vec<UserId>> = HashMap::new();
        for member in fetch_all::<Member>(&self.backend, sql, args).await? {
            members
                .entry(member.team_id)
                .or_default()
                .push(member.user_id);
        }
        for team in &mut teams {
            team.member_user_ids = members.remove(&team.id).unwrap_or_default();
        }
        Ok(teams)
    }
}
