//! Who sees which conversations in the console, and the inbox's filters.
//!
//! The tabs are listed in the order the console shows them ([`InboxFilter::ALL`]).
//!
//! An admin sees every conversation of the workspace. An advisor sees the ones assigned
//! to them and, among the unassigned, those in the queue of a team they belong to; the
//! contacts they see are the contacts of those conversations. The store's inbox lists
//! apply the same rule in SQL; this type decides for one conversation.

use crate::conversation::{Controller, ConversationStatus};
use crate::ids::{TeamId, UserId};
use crate::user::Role;

/// The person looking, as the rules need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: UserId,
    pub role: Role,
    /// The teams the user belongs to.
    pub teams: Vec<TeamId>,
}

impl Viewer {
    /// Whether the viewer may open a conversation assigned to `assigned` and queued for
    /// `team`.
    pub fn may_see(&self, assigned: Option<UserId>, team: Option<TeamId>) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Advisor => match assigned {
                Some(user) => user == self.user_id,
                None => team.is_some_and(|team| self.teams.contains(&team)),
            },
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

crate::wire_enum! {
    /// The inbox's tabs.
    pub enum InboxFilter {
        /// Assigned to me.
        Mine = "mine",
        /// Handed off, nobody assigned, in one of my teams' queues.
        Queue = "queue",
        /// Open, the AI agent speaking.
        Ai = "ai",
        /// Handed off to a person.
        HandedOff = "handed-off",
        OptedOut = "opted-out",
        Closed = "closed",
    }
}

impl InboxFilter {
    /// The tab a person lands on.
    pub const DEFAULT: InboxFilter = InboxFilter::Mine;

    /// The tab's label.
    pub fn label(self) -> &'static str {
        match self {
            InboxFilter::Mine => "Mine",
            InboxFilter::Queue => "Team queue",
            InboxFilter::Ai => "AI-handled",
            InboxFilter::HandedOff => "Handed off",
            InboxFilter::OptedOut => "Opted out",
            InboxFilter::Closed => "Closed",
        }
    }

    /// Whether a conversation belongs under this tab for `viewer` (who may see it).
    pub fn holds(
        self,
        viewer: &Viewer,
        status: ConversationStatus,
        controller: Controller,
        assigned: Option<UserId>,
    ) -> bool {
        match self {
            InboxFilter::Mine => assigned == Some(viewer.user_id),
            InboxFilter::Queue => status == ConversationStatus::HandedOff && assigned.is_none(),
            InboxFilter::Ai => status == ConversationStatus::Active && controller == Controller::Ai,
            InboxFilter::HandedOff => status == ConversationStatus::HandedOff,
            InboxFilter::OptedOut => status == ConversationStatus::OptedOut,
            InboxFilter::Closed => status == ConversationStatus::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisor(teams: Vec<TeamId>) -> Viewer {
        Viewer {
            user_id: UserId::new(),
            role: Role::Advisor,
            teams,
        }
    }

    #[test]
    fn an_advisor_sees_their_own_and_their_teams_unassigned_queue() {
        let team = TeamId::new();
        let other_team = TeamId::new();
        let me = advisor(vec![team]);
        assert!(me.may_see(Some(me.user_id), None));
        assert!(me.may_see(Some(me.user_id), Some(other_team)));
        assert!(me.may_see(None, Some(team)));
        assert!(!me.may_see(None, Some(other_team)));
        assert!(!me.may_see(None, None));
        assert!(
            !me.may_see(Some(UserId::new()), Some(team)),
            "a teammate's conversation"
        );
    }

    #[test]
    fn an_admin_sees_everything() {
        let admin = Viewer {
            role: Role::Admin,
            ..advisor(Vec::new())
        };
        assert!(admin.may_see(Some(UserId::new()), None));
        assert!(admin.may_see(None, None));
    }

    #[test]
    fn the_queue_holds_handed_off_conversations_nobody_took() {
        let me = advisor(Vec::new());
        let queue = InboxFilter::Queue;
        assert!(queue.holds(&me, ConversationStatus::HandedOff, Controller::Human, None));
        assert!(!queue.holds(
            &me,
            ConversationStatus::HandedOff,
            Controller::Human,
            Some(me.user_id)
        ));
        assert!(!queue.holds(&me, ConversationStatus::Active, Controller::Ai, None));
    }

    #[test]
    fn every_tab_reads_back_from_its_name() {
        for filter in InboxFilter::ALL {
            assert_eq!(InboxFilter::parse(filter.as_str()), Some(*filter));
        }
    }
}
