//! The store contract: the same story on SQLite and PostgreSQL.

use std::collections::HashSet;

use hotline::auth::Role;
use hotline::clock::Timestamp;
use hotline::crews::CrewStatus;
use hotline::phone::PhoneNumber;
use hotline::settlements::parse_csv;
use hotline::store::{SettlementQuery, Store, StoreError, TicketFilter};
use hotline::tickets::{Category, Channel, NewTicket, Status, TicketKey};
use hotline::tools::commit_ceiling;

use crate::helpers::TestDb;
use crate::on_both_backends;

on_both_backends!(
    ticket_numbers_stay_unique_and_increasing_with_concurrent_creators,
    lifecycle_steps_are_audited_and_impossible_ones_change_nothing,
    listing_filters_and_pages_newest_first,
    notes_are_kept_in_order_with_their_author,
    users_are_unique_and_sessions_expire,
    settlements_upsert_and_match_by_postcode_or_folded_name,
    migrating_twice_is_harmless,
    old_events_are_swept_and_ids_keep_rising,
    the_storm_commit_ceiling_table_comes_and_goes_beside_the_schema,
);

const T0: Timestamp = Timestamp(1_796_000_000_000);

fn outage(description: &str) -> NewTicket {
    NewTicket {
        category: Category::Outage,
        priority: Category::Outage.default_priority(),
        channel: Channel::Phone,
        status: Status::New,
        caller_number: Some(PhoneNumber::parse("+79101234567").unwrap()),
        settlement_id: None,
        address: Some("ул. Ленина, 1".into()),
        description: description.into(),
        recording_url: None,
        recording_duration_s: None,
        call_id: None,
        assignee_id: None,
        actor: "ivr".into(),
        incident_window_s: None,
        escalation: None,
    }
}

async fn ticket_numbers_stay_unique_and_increasing_with_concurrent_creators(db: TestDb) {
    let store = db.store().await;
    let creators: Vec<_> = (0..8)
        .map(|creator| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut numbers = Vec::new();
                for i in 0..25 {
                    let t = store.create_ticket(&outage(&format!("{creator}/{i}")), T0).await.unwrap();
                    numbers.push(t.number.get());
                }
                numbers
            })
        })
        .collect();
    let mut all = Vec::new();
    for creator in creators {
        let numbers = creator.await.unwrap();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "each creator sees increasing numbers: {numbers:?}");
        all.extend(numbers);
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), 200, "no number is given twice");
    all.sort();
    assert_eq!(all, (100_001..=100_200).collect::<Vec<_>>(), "numbers are dense and start at six digits");
}

async fn lifecycle_steps_are_audited_and_impossible_ones_change_nothing(db: TestDb) {
    let store = db.store().await;
    let t = store.create_ticket(&outage("нет света"), T0).await.unwrap();
    let key = TicketKey::Number(t.number);
    for (i, to) in [Status::Queued, Status::InProgress, Status::Resolved, Status::Closed].into_iter().enumerate() {
        let changed =
            store.transition_ticket(&key, to, "olga", Some("done"), None, T0.plus_seconds(i as i64 + 1)).await.unwrap();
        assert_eq!(changed.status, to);
    }
    let before = store.ticket_detail(&key).await.unwrap().unwrap();
    let refused =
        store.transition_ticket(&key, Status::InProgress, "olga", None, Some("try"), T0.plus_seconds(9)).await;
    assert!(matches!(refused, Err(StoreError::Conflict(ref m)) if m.contains("closed")), "{refused:?}");
    let after = store.ticket_detail(&key).await.unwrap().unwrap();
    assert_eq!(after.ticket.status, Status::Closed);
    assert_eq!(after.events.len(), before.events.len(), "a refused step leaves no trace");
    assert!(after.notes.is_empty(), "a refused step's note is not kept");

    let trail: Vec<(Option<&str>, Option<&str>, &str)> =
        after.events.iter().map(|e| (e.from.as_deref(), e.to.as_deref(), e.actor.as_str())).collect();
    assert_eq!(
        trail,
        vec![
            (None, Some("new"), "ivr"),
            (Some("new"), Some("queued"), "olga"),
            (Some("queued"), Some("in_progress"), "olga"),
            (Some("in_progress"), Some("resolved"), "olga"),
            (Some("resolved"), Some("closed"), "olga"),
        ]
    );
    assert_eq!(after.ticket.updated_at, T0.plus_seconds(4));
    assert!(matches!(
        store.transition_ticket(&TicketKey::Number("1".parse().unwrap()), Status::Queued, "x", None, None, T0).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn listing_filters_and_pages_newest_first(db: TestDb) {
    let store = db.store().await;
    let mut theft = outage("Сосед подключился к линии в обход счётчика");
    theft.category = Category::Theft;
    theft.priority = Category::Theft.default_priority();
    store.create_ticket(&theft, T0).await.unwrap();
    for i in 0..5 {
        store.create_ticket(&outage(&format!("Нет света, дом {i}")), T0).await.unwrap();
    }
    let mut filter = TicketFilter { limit: 2, category: Some(Category::Outage), ..Default::default() };
    let mut seen = Vec::new();
    loop {
        let page = store.list_tickets(&filter).await.unwrap();
        seen.extend(page.items.iter().map(|t| t.number.to_string()));
        match page.next_cursor {
            Some(cursor) => filter.before_number = Some(cursor.parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["100006", "100005", "100004", "100003", "100002"]);

    let search = |text: &str| TicketFilter { text: Some(text.into()), limit: 50, ..Default::default() };
    // Case and ё are folded on both databases.
    let found = store.list_tickets(&search("СЧЕТЧИКА")).await.unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].category, Category::Theft);
    assert_eq!(store.list_tickets(&search("100003")).await.unwrap().items.len(), 1);
    assert_eq!(store.list_tickets(&search("%")).await.unwrap().items.len(), 0, "wildcards are literal");
    let queued = TicketFilter { status: Some(Status::Queued), limit: 50, ..Default::default() };
    assert!(store.list_tickets(&queued).await.unwrap().items.is_empty());
}

async fn notes_are_kept_in_order_with_their_author(db: TestDb) {
    let store = db.store().await;
    let t = store.create_ticket(&outage("искрит провод"), T0).await.unwrap();
    let key = TicketKey::Id(t.id.clone());
    store.add_note(&key, "olga", "перезвонила", T0.plus_seconds(1)).await.unwrap();
    store.add_note(&key, "ivan", "бригада выехала", T0.plus_seconds(2)).await.unwrap();
    let detail = store.ticket_detail(&key).await.unwrap().unwrap();
    let notes: Vec<(&str, &str)> = detail.notes.iter().map(|n| (n.author.as_str(), n.text.as_str())).collect();
    assert_eq!(notes, vec![("olga", "перезвонила"), ("ivan", "бригада выехала")]);
    assert_eq!(detail.events.iter().filter(|e| e.kind == "note").count(), 2);
}

async fn users_are_unique_and_sessions_expire(db: TestDb) {
    let store = db.store().await;
    let user = store.create_user("olga", "hash", Role::Operator, T0).await.unwrap();
    assert!(matches!(store.create_user("olga", "hash", Role::Admin, T0).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.count_users().await.unwrap(), 1);
    store.create_session("tokenhash", &user.id, T0, T0.plus_seconds(60)).await.unwrap();
    assert_eq!(store.session_user("tokenhash", T0.plus_seconds(59)).await.unwrap().unwrap().username, "olga");
    assert_eq!(store.session_user("tokenhash", T0.plus_seconds(61)).await.unwrap(), None);
    assert_eq!(store.session_user("other", T0).await.unwrap(), None);
    store.delete_session("tokenhash").await.unwrap();
    assert_eq!(store.session_user("tokenhash", T0).await.unwrap(), None);
}

async fn settlements_upsert_and_match_by_postcode_or_folded_name(db: TestDb) {
    let store = db.store().await;
    let rows = parse_csv(hotline::settlements::DEFAULT_CSV).unwrap();
    assert_eq!(store.upsert_settlements(&rows).await.unwrap(), 20);
    assert_eq!(store.upsert_settlements(&rows).await.unwrap(), 20);
    assert_eq!(store.count_settlements().await.unwrap(), 20, "an import updates, never duplicates");

    let by_postcode =
        store.find_settlements(&SettlementQuery { postcode: Some("152610".into()), name: None }).await.unwrap();
    assert_eq!(by_postcode.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), vec!["Углич"]);
    for (said, expected) in [("гаврилов ям", "Гаврилов-Ям"), ("ПОСЁЛОК Пречистое", "Пречистое"), ("ростов", "Ростов")]
    {
        let found = store.find_settlements(&SettlementQuery { postcode: None, name: Some(said.into()) }).await.unwrap();
        assert_eq!(found.first().map(|s| s.name.as_str()), Some(expected), "{said}");
    }
    let id = by_postcode[0].id;
    assert_eq!(store.settlement(id).await.unwrap().unwrap().district, "Угличский район");
}

async fn migrating_twice_is_harmless(db: TestDb) {
    let store = db.store().await;
    store.migrate().await.unwrap();
    assert!(store.is_ready().await);
    let again = Store::open(&db.url).await.unwrap();
    assert!(again.is_ready().await);
}

#[test]
fn both_backends_have_the_same_migration_versions() {
    let versions = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().split('_').next().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(versions("sqlite"), versions("postgres"));
}

async fn old_events_are_swept_and_ids_keep_rising(db: TestDb) {
    let store = db.store().await;
    for i in 0..3 {
        store
            .create_crew(&format!("Бригада {i}"), None, None, CrewStatus::Available, T0.plus_seconds(i))
            .await
            .unwrap();
    }
    let before = store.events_after(0, 10).await.unwrap();
    assert_eq!(before.len(), 3);
    assert_eq!(store.prune_events(T0.plus_seconds(2)).await.unwrap(), 2, "the two older ones go");
    // Everything is older now, but the newest stays so that the next id follows it.
    assert_eq!(store.prune_events(T0.plus_seconds(3600)).await.unwrap(), 0);
    let kept = store.events_after(0, 10).await.unwrap();
    assert_eq!(kept.iter().map(|e| e.id).collect::<Vec<_>>(), vec![before[2].id]);
    store.create_crew("Бригада 4", None, None, CrewStatus::Available, T0.plus_seconds(3600)).await.unwrap();
    let next = store.events_after(before[2].id, 10).await.unwrap();
    assert!(next.len() == 1 && next[0].id > before[2].id, "{next:?}");
}

async fn the_storm_commit_ceiling_table_comes_and_goes_beside_the_schema(db: TestDb) {
    let store = db.store().await;
    let before = store.call_table_counts().await.unwrap();
    commit_ceiling::create(&store).await.unwrap();
    commit_ceiling::create(&store).await.expect("a table left by a killed storm is replaced");
    for body in ["CallSid=CA1", "CallSid=CA2"] {
        commit_ceiling::commit_row(&store, body).await.unwrap();
    }
    commit_ceiling::drop(&store).await.unwrap();
    assert!(commit_ceiling::commit_row(&store, "CallSid=CA3").await.is_err(), "its table is gone");
    assert_eq!(store.call_table_counts().await.unwrap(), before, "it writes nothing else");
    store.migrate().await.expect("the schema is as the migrations left it");
}
