//! Messages stored in batches (the gateway's group commit) straight
//! against Postgres: what each sender is answered, and the order of ids.

mod common;

use common::{accepted_chat, customer, knobs, mitra, paid_order};
use halo_chats::{ChatId, Outgoing, Role};
use halo_testkit::TestDb;
use uuid::Uuid;

fn outgoing(sender: Uuid, chat: Uuid, client_msg_id: &str, body: &str) -> Outgoing {
    Outgoing {
        sender,
        chat: ChatId(chat),
        client_msg_id: client_msg_id.to_owned(),
        body: body.to_owned(),
    }
}

#[tokio::test]
async fn a_batch_stores_each_message_once_in_order_and_leaves_refusals_to_the_single_path() {
    let db = TestDb::new().await;
    let knobs = knobs(&db).await;
    let serving = mitra(&db.pool, 1).await;
    let buyer = customer(&db.pool, "+6281300000021").await;
    let order = paid_order(&db.pool, buyer, Some(serving), true).await;
    halo_chats::dispatch_paid_orders(&db.pool, &knobs)
        .await
        .unwrap();
    let chat = accepted_chat(&db.pool, &knobs, order, serving).await;
    let stranger = customer(&db.pool, "+6281300000022").await;

    let batch = [
        outgoing(buyer, chat, "c-1", "halo kak"),
        outgoing(serving, chat, "m-1", "halo juga"),
        outgoing(stranger, chat, "s-1", "not mine"),
        outgoing(buyer, chat, "c-2", "apa kabar"),
        // The same message twice in one batch (a resend on a second socket).
        outgoing(buyer, chat, "c-2", "apa kabar"),
        outgoing(buyer, Uuid::now_v7(), "x-1", "no such chat"),
    ];
    let stored = halo_chats::send_batch(&db.pool, &batch).await.unwrap();

    let ids: Vec<Option<i64>> = stored
        .iter()
        .map(|sent| sent.as_ref().map(|s| s.message.id))
        .collect();
    let [Some(c1), Some(m1), None, Some(c2), Some(c2_again), None] = ids[..] else {
        panic!("unexpected answers: {ids:?}");
    };
    assert!(c1 < m1 && m1 < c2, "ids follow the order given: {ids:?}");
    assert_eq!(c2, c2_again, "a message given twice is stored once");
    let first = stored[0].as_ref().unwrap();
    assert_eq!(
        (first.message.sender, first.recipient),
        (Role::Customer, serving)
    );
    let second = stored[1].as_ref().unwrap();
    assert_eq!(
        (second.message.sender, second.recipient),
        (Role::Mitra, buyer)
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_messages WHERE chat_id = $1")
        .bind(chat)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 3);

    // What the batch left is the single path's to answer: a resend gets
    // the stored message, a stranger is refused.
    let resent = halo_chats::send_batch(&db.pool, &batch[..1]).await.unwrap();
    assert!(resent[0].is_none(), "a resend stores nothing");
    let answered = halo_chats::send(&db.pool, buyer, ChatId(chat), "c-1", "halo kak")
        .await
        .unwrap();
    assert_eq!(answered.message.id, c1);
    assert!(matches!(
        halo_chats::send(&db.pool, stranger, ChatId(chat), "s-1", "not mine").await,
        Err(halo_chats::ChatError::NotFound)
    ));
}
