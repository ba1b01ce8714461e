//! Matching straight against a real Postgres, without an edge: capacity
//! under concurrent dispatchers, timeouts, declines, and what a mitra sees.

mod common;

use common::{chat_of, customer, knobs, lapse_offer, mitra, order_status, paid_order, topics};
use halo_chats::ChatId;
use halo_testkit::TestDb;
use uuid::Uuid;

#[tokio::test]
async fn fifty_orders_paid_at_once_never_give_three_mitras_more_customers_than_their_capacity() {
    let db = TestDb::new().await;
    let knobs = knobs(&db).await;
    assert_eq!(knobs.max_customers_per_mitra, 3);
    let mitras = [
        mitra(&db.pool, 1).await,
        mitra(&db.pool, 2).await,
        mitra(&db.pool, 3).await,
    ];
    let buyer = customer(&db.pool, "+6281300000001").await;
    for _ in 0..50 {
        paid_order(&db.pool, buyer, None, true).await;
    }

    // Eight dispatchers (as eight gateway instances) race over the 50
    // events, and retries of waiting chats race with them.
    let rounds = (0..8).map(|n| {
        let (db, knobs) = (db.pool.clone(), knobs.clone());
        tokio::spawn(async move {
            if n % 2 == 0 {
                halo_chats::dispatch_paid_orders(&db, &knobs).await.unwrap();
            }
            halo_chats::retry_waiting(&db, &knobs).await.unwrap();
        })
    });
    for round in futures_util::future::join_all(rounds).await {
        round.unwrap();
    }
    halo_chats::dispatch_paid_orders(&db.pool, &knobs)
        .await
        .unwrap();
    halo_chats::retry_waiting(&db.pool, &knobs).await.unwrap();

    let per_mitra: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT mitra_id, count(*) FROM chats WHERE status = 'offered' AND mitra_id IS NOT NULL
         GROUP BY mitra_id ORDER BY mitra_id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        per_mitra,
        mitras.iter().map(|m| (*m, 3)).collect::<Vec<_>>()
    );
    let (chats, waiting): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status = 'offered' AND mitra_id IS NULL) FROM chats",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (chats, waiting),
        (50, 41),
        "one chat per order; the rest wait for a free slot"
    );
}

#[tokio::test]
async fn an_unanswered_offer_goes_to_the_next_mitra_and_at_the_deadline_the_chat_is_unserved_and_refunded()
 {
    let db = TestDb::new().await;
    let knobs = knobs(&db).await;
    let (first, second) = (mitra(&db.pool, 1).await, mitra(&db.pool, 2).await);
    let order = paid_order(
        &db.pool,
        customer(&db.pool, "+6281300000002").await,
        None,
        true,
    )
    .await;

    halo_chats::dispatch_paid_orders(&db.pool, &knobs)
        .await
        .unwrap();
    let (chat, status, offered_to) = chat_of(&db.pool, order).await;
    assert_eq!(status, "offered");
    let first_offer = offered_to.expect("offered at once");

    lapse_offer(&db.pool, chat).await;
    assert_eq!(
        halo_chats::time_out_offers(&db.pool, &knobs).await.unwrap(),
        1
    );
    let second_offer = chat_of(&db.pool, order).await.2.expect("re-offered");
    assert_ne!(second_offer, first_offer, "never the same mitra twice");
    let mut both = [first_offer, second_offer];
    both.sort();
    let mut expected = [first, second];
    expected.sort();
    assert_eq!(both, expected);

    // Nobody is left to ask: the chat waits until its match deadline...
    lapse_offer(&db.pool, chat).await;
    halo_chats::time_out_offers(&db.pool, &knobs).await.unwrap();
    assert_eq!(chat_of(&db.pool, order).await.1, "offered");
    assert_eq!(order_status(&db.pool, order).await, "paid");

    // ...and then is given up, the order owed a refund.
    sqlx::query("UPDATE chats SET match_deadline = now() WHERE id = $1")
        .bind(chat)
        .execute(&db.pool)
        .await
        .unwrap();
    halo_chats::retry_waiting(&db.pool, &knobs).await.unwrap();
    assert_eq!(chat_of(&db.pool, order).await.1, "unserved");
    assert_eq!(order_status(&db.pool, order).await, "refund_required");
    assert_eq!(
        topics(&db.pool, chat).await,
        [
            "chat.offered",
            "chat.offer_timed_out",
            "chat.offered",
            "chat.offer_timed_out",
            "chat.unserved"
        ]
    );
}

#[tokio::test]
async fn a_chosen_mitra_who_declines_ends_the_chat_unless_the_order_allows_a_fallback() {
    let db = TestDb::new().await;
    let knobs = knobs(&db).await;
    let (chosen, other) = (mitra(&db.pool, 1).await, mitra(&db.pool, 2).await);
    let buyer = customer(&db.pool, "+6281300000003").await;
    let strict = paid_order(&db.pool, buyer, Some(chosen), false).await;
    let flexible = paid_order(&db.pool, buyer, Some(chosen), true).await;
    halo_chats::dispatch_paid_orders(&db.pool, &knobs)
        .await
        .unwrap();

    for order in [strict, flexible] {
        let (chat, _, offered_to) = chat_of(&db.pool, order).await;
        assert_eq!(offered_to, Some(chosen), "the chosen mitra is asked first");
        halo_chats::decline(&db.pool, &knobs, chosen, ChatId(chat))
            .await
            .unwrap();
        // Declining again changes nothing.
        halo_chats::decline(&db.pool, &knobs, chosen, ChatId(chat))
            .await
            .unwrap();
    }

    assert_eq!(chat_of(&db.pool, strict).await.1, "unserved");
    assert_eq!(order_status(&db.pool, strict).await, "refund_required");
    let (chat, status, offered_to) = chat_of(&db.pool, flexible).await;
    assert_eq!((status.as_str(), offered_to), ("offered", Some(other)));
    assert_eq!(
        topics(&db.pool, chat).await,
        ["chat.offered", "chat.declined", "chat.offered"]
    );
}

#[tokio::test]
async fn an_accepted_chat_runs_for_its_tier_and_shows_the_mitra_no_customer_identity() {
    let db = TestDb::new().await;
    let knobs = knobs(&db).await;
    let serving = mitra(&db.pool, 1).await;
    let buyer = customer(&db.pool, "+6281300000004").await;
    let order = paid_order(&db.pool, buyer, Some(serving), true).await;
    halo_chats::dispatch_paid_orders(&db.pool, &knobs)
        .await
        .unwrap();
    let (chat, _, _) = chat_of(&db.pool, order).await;
    let stranger = mitra(&db.pool, 2).await;

    let accepted = halo_chats::accept(&db.pool, &knobs, serving, ChatId(chat))
        .await
        .unwrap();

    let seen = serde_json::to_value(&accepted).unwrap();
    assert_eq!(seen["status"], "active");
    let started =
        chrono::DateTime::parse_from_rfc3339(seen["started_at"].as_str().unwrap()).unwrap();
    let ends = chrono::DateTime::parse_from_rfc3339(seen["ends_at"].as_str().unwrap()).unwrap();
    assert_eq!(ends - started, chrono::Duration::minutes(30));
    let text = seen.to_string();
    assert!(
        !text.contains(&buyer.to_string()) && !text.contains("6281300000004"),
        "{text}"
    );
    let alias = seen["customer"]["display_name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(alias.starts_with("Teman "), "{alias}");
    // The alias is stable: the same customer, the same name, in every chat.
    assert_eq!(
        halo_chats::CustomerAlias::new(buyer, None).display_name,
        alias
    );
    // Accepting again answers the same chat; anyone else sees no chat.
    let again = halo_chats::accept(&db.pool, &knobs, serving, ChatId(chat))
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&again).unwrap(), seen);
    assert!(matches!(
        halo_chats::accept(&db.pool, &knobs, stranger, ChatId(chat)).await,
        Err(halo_chats::ChatError::NotFound)
    ));
    assert!(matches!(
        halo_chats::decline(&db.pool, &knobs, serving, ChatId(chat)).await,
        Err(halo_chats::ChatError::OfferClosed)
    ));
    assert_eq!(
        topics(&db.pool, chat).await,
        ["chat.offered", "chat.accepted"]
    );
}

#[tokio::test]
async fn anyone_goes_to_the_least_loaded_mitra_then_the_longest_idle() {
    let db = TestDb::new().await;
    let knobs = knobs(&db).await;
    let busy = mitra(&db.pool, 1).await;
    let idle_longer = mitra(&db.pool, 2).await;
    let idle_shorter = mitra(&db.pool, 3).await;
    sqlx::query("UPDATE mitra_presence SET status_changed_at = now() - interval '1 hour' WHERE mitra_id = $1")
        .bind(idle_longer)
        .execute(&db.pool)
        .await
        .unwrap();
    let buyer = customer(&db.pool, "+6281300000005").await;
    // `busy` already holds a customer.
    let held = paid_order(&db.pool, buyer, Some(busy), false).await;
    halo_chats::dispatch_paid_orders(&db.pool, &knobs)
        .await
        .unwrap();
    assert_eq!(chat_of(&db.pool, held).await.2, Some(busy));

    let order = paid_order(&db.pool, buyer, None, true).await;
    halo_chats::dispatch_paid_orders(&db.pool, &knobs)
        .await
        .unwrap();

    assert_eq!(chat_of(&db.pool, order).await.2, Some(idle_longer));
    let next = paid_order(&db.pool, buyer, None, true).await;
    halo_chats::dispatch_paid_orders(&db.pool, &knobs)
        .await
        .unwrap();
    assert_eq!(chat_of(&db.pool, next).await.2, Some(idle_shorter));
}
