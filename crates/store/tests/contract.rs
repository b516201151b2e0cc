//! The store contract: every behaviour the server relies on, checked on SQLite and on
//! PostgreSQL with the same test bodies.

use std::future::Future;
use std::sync::Arc;

use leadline_core::contact::{ContactType, LanguageCode};
use leadline_core::custom_attribute::{AttributeDefinition, AttributeKind, OpenAttributeInput};
use leadline_core::user::{Role, UserRef};
use leadline_core::{ApiKey, E164, Email, Patch, SystemClock};
use leadline_store::contacts::{AttributesInput, ContactFilter, ContactUpsert};
use leadline_store::testing::TestDatabase;
use leadline_store::users::NewUser;
use leadline_store::{BackendKind, Store, StoreError, StoreOptions};

/// Runs `body` against a fresh store of each backend.
async fn on_both<F, Fut>(body: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let Some(database) = TestDatabase::create(kind).await else {
            continue;
        };
        let store = Store::open(
            &database.url,
            StoreOptions::default(),
            Arc::new(SystemClock),
        )
        .await
        .unwrap_or_else(|e| panic!("{kind:?} store opens: {e}"));
        body(store.clone()).await;
        store.close().await;
    }
}

fn upsert(workspace: leadline_core::WorkspaceId, cellphone: &str) -> ContactUpsert {
    ContactUpsert {
        workspace_id: workspace,
        cellphone: E164::parse(cellphone).unwrap(),
        first_name: Patch::Absent,
        last_name: Patch::Absent,
        email: Patch::Absent,
        language_code: Patch::Absent,
        owner: Patch::Absent,
        attributes: AttributesInput::Keep,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspaces_and_keys() {
    on_both(|store| async move {
        let (workspace, key) = store.create_workspace("Acme").await.unwrap();
        assert_eq!(
            store.workspace_for_key(&key.hash()).await.unwrap(),
            Some(workspace.id)
        );
        assert_eq!(
            store
                .workspace_for_key(&ApiKey::generate().hash())
                .await
                .unwrap(),
            None
        );
        let second = store.create_api_key(workspace.id).await.unwrap().unwrap();
        assert_eq!(
            store.workspace_for_key(&second.hash()).await.unwrap(),
            Some(workspace.id)
        );
        assert!(
            store
                .create_api_key(leadline_core::WorkspaceId::new())
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .create_first_workspace("again")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store.workspace(workspace.id).await.unwrap().unwrap().name,
            "Acme"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_workspace_only_on_an_empty_database() {
    on_both(|store| async move {
        let created = store.create_first_workspace("Default").await.unwrap();
        assert!(created.is_some());
        assert!(
            store
                .create_first_workspace("Default")
                .await
                .unwrap()
                .is_none()
        );
    })
    .await;
}

/// Two nodes started together on an empty database: each opens its own store and asks
/// for the first workspace; exactly one creates it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_create_one_first_workspace() {
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let Some(database) = TestDatabase::create(kind).await else {
            continue;
        };
        let mut nodes = Vec::new();
        for _ in 0..2 {
            let store = Store::open(
                &database.url,
                StoreOptions::default(),
                Arc::new(SystemClock),
            )
            .await
            .unwrap_or_else(|e| panic!("{kind:?} store opens: {e}"));
            nodes.push(store);
        }
        let mut starts = tokio::task::JoinSet::new();
        for n in 0..8 {
            let store = nodes[n % 2].clone();
            starts.spawn(async move { store.create_first_workspace("Default").await });
        }
        let mut created = Vec::new();
        while let Some(start) = starts.join_next().await {
            if let Some((workspace, _)) = start.unwrap().unwrap() {
                created.push(workspace.id);
            }
        }
        assert_eq!(created.len(), 1, "{kind:?}: workspaces created {created:?}");
        for store in nodes {
            store.close().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_unique_by_email_per_workspace() {
    on_both(|store| async move {
        let (a, _) = store.create_workspace("A").await.unwrap();
        let (b, _) = store.create_workspace("B").await.unwrap();
        let new = || NewUser {
            email: Email::parse("jane@acme.com").unwrap(),
            first_name: None,
            last_name: None,
            role: Role::Advisor,
        };
        let jane = store.create_user(a.id, new()).await.unwrap();
        assert!(matches!(
            store.create_user(a.id, new()).await,
            Err(StoreError::Duplicate { .. })
        ));
        store
            .create_user(b.id, new())
            .await
            .expect("the same email in another workspace");
        let by_email = store
            .user(a.id, &UserRef::Email(jane.email.clone()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_email, jane);
        assert_eq!(
            store
                .user(a.id, &UserRef::Id(jane.id))
                .await
                .unwrap()
                .unwrap(),
            jane
        );
        assert!(
            store
                .user(b.id, &UserRef::Id(jane.id))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store.list_users(a.id, None, 10).await.unwrap(),
            vec![jane.clone()]
        );
        assert!(
            store
                .list_users(a.id, Some(jane.id), 10)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_attribute_keys_are_unique_per_workspace() {
    on_both(|store| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let budget =
            AttributeDefinition::create("budget", "Budget", AttributeKind::Open, &[], true)
                .unwrap();
        let product = AttributeDefinition::create(
            "product",
            "Product",
            AttributeKind::Closed,
            &["Auto".into()],
            false,
        )
        .unwrap();
        store
            .create_custom_attribute(workspace.id, &budget)
            .await
            .unwrap();
        store
            .create_custom_attribute(workspace.id, &product)
            .await
            .unwrap();
        let again = AttributeDefinition::create("budget", "Other", AttributeKind::Open, &[], false)
            .unwrap();
        assert!(matches!(
            store.create_custom_attribute(workspace.id, &again).await,
            Err(StoreError::Duplicate { .. })
        ));
        assert_eq!(
            store.custom_attributes(workspace.id).await.unwrap(),
            vec![budget, product]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_upserts_of_one_contact_merge_into_one_row() {
    on_both(|store| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..40 {
            let store = store.clone();
            let mut change = upsert(workspace.id, "+14155552671");
            match i % 3 {
                0 => change.first_name = Patch::Set("Maria".into()),
                1 => change.last_name = Patch::Set("Lopez".into()),
                _ => change.language_code = Patch::Set(LanguageCode::Es),
            }
            tasks.spawn(async move { store.upsert_contact(change).await.unwrap().unwrap() });
        }
        let results = tasks.join_all().await;
        assert_eq!(
            results.iter().filter(|r| r.created).count(),
            1,
            "exactly one upsert creates the row"
        );
        let ids: std::collections::HashSet<_> = results.iter().map(|r| r.contact.id).collect();
        assert_eq!(ids.len(), 1);
        let page = store
            .list_contacts(
                workspace.id,
                &ContactFilter {
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.len(), 1);
        let stored = &page[0];
        assert_eq!(stored.fields.first_name.as_deref(), Some("Maria"));
        assert_eq!(stored.fields.last_name.as_deref(), Some("Lopez"));
        assert_eq!(stored.contact_type, ContactType::Normal);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upsert_does_not_disturb_its_batch() {
    on_both(|store| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..30u32 {
            let store = store.clone();
            let mut change = upsert(workspace.id, &format!("+1415555{:04}", 2000 + i));
            if i % 5 == 0 {
                change.owner = Patch::Set(UserRef::Email(Email::parse("nobody@acme.com").unwrap()));
            }
            if i % 7 == 0 {
                change.attributes = AttributesInput::Assign {
                    open: vec![OpenAttributeInput {
                        custom_attribute_id: "missing".into(),
                        content: Some("x".into()),
                    }],
                    closed: vec![],
                };
            }
            tasks.spawn(async move { (i, store.upsert_contact(change).await.unwrap()) });
        }
        for (i, outcome) in tasks.join_all().await {
            let refused = i % 5 == 0 || i % 7 == 0;
            assert_eq!(outcome.is_err(), refused, "upsert {i}");
            if let Err(errors) = outcome {
                let fields: Vec<_> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
                if i % 5 == 0 {
                    assert!(fields.contains(&"ownerIdentifier.identifier"), "{fields:?}");
                }
                if i % 7 == 0 {
                    assert!(
                        fields.contains(&"customAttributes.openAttributes[0].customAttributeId"),
                        "{fields:?}"
                    );
                }
            }
        }
        let stored = store
            .list_contacts(
                workspace.id,
                &ContactFilter {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let refused = (0..30).filter(|i| i % 5 == 0 || i % 7 == 0).count();
        assert_eq!(stored.len(), 30 - refused, "refused upserts create no row");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_page_in_creation_order_and_filter_by_cellphone() {
    on_both(|store| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let (other, _) = store.create_workspace("B").await.unwrap();
        let mut created = Vec::new();
        for i in 0..5u32 {
            let outcome = store
                .upsert_contact(upsert(workspace.id, &format!("+1415555{:04}", 3000 + i)))
                .await
                .unwrap()
                .unwrap();
            created.push(outcome.contact.id);
        }
        store
            .upsert_contact(upsert(other.id, "+14155553000"))
            .await
            .unwrap()
            .unwrap();
        let first = store
            .list_contacts(
                workspace.id,
                &ContactFilter {
                    limit: 3,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let rest = store
            .list_contacts(
                workspace.id,
                &ContactFilter {
                    limit: 3,
                    after: Some(first[2].id),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let listed: Vec<_> = first.iter().chain(&rest).map(|c| c.id).collect();
        assert_eq!(listed, created);
        let cellphone = E164::parse("+14155553000").unwrap();
        let found = store
            .contact_by_cellphone(workspace.id, &cellphone)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, created[0]);
        assert_eq!(
            store.contact(other.id, created[0]).await.unwrap(),
            None,
            "contacts are per workspace"
        );
    })
    .await;
}
