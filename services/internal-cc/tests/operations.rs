//! The operators' world (issue 12): mitras, customers, chats with audited
//! transcripts, orders and refunds, reports, CC users, the audit log and
//! the dashboard, each as an operator of the CC would use it.

mod common;

use common::seed::{SeededChat, active_chat, audit_of, core_client, sign_in};
use common::spawn_cc;
use halo_proto::v1;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

fn id_of(body: &Value) -> Uuid {
    body["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_operator_registers_a_mitra_who_can_then_sign_in_and_edits_their_profile() {
    let cc = spawn_cc().await;
    let (operator, access) = cc.signed_in("operator").await;

    let created = cc
        .post(
            "/internal/mitras",
            &access,
            json!({"phone": "0812 0000 0077", "display_name": "Dewi",
            "bio": "Pendengar yang sabar."}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["phone"], "+6281200000077", "stored in E.164");
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["availability"], "offline");
    let mitra = id_of(&created.body);

    let again = cc
        .post(
            "/internal/mitras",
            &access,
            json!({"phone": "+6281200000077", "display_name": "Dua"}),
        )
        .await;
    assert_eq!(
        (again.status, again.error_code()),
        (StatusCode::CONFLICT, "phone_taken")
    );
    let bad = cc
        .post(
            "/internal/mitras",
            &access,
            json!({"phone": "12", "display_name": "",
            "photo_url": "http://insecure.example/p.jpg"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    sign_in(&cc.stack, "081200000077", v1::OtpAudience::Mitra)
        .await
        .expect("a registered mitra signs in on the mitra app");

    let changed = cc
        .patch(
            &format!("/internal/mitras/{mitra}"),
            &access,
            json!({"photo_url": "https://cdn.halobestie.id/dewi.jpg", "display_name": "Dewi A."}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["display_name"], "Dewi A.");
    assert_eq!(
        changed.body["bio"], "Pendengar yang sabar.",
        "fields left out stay"
    );
    let cleared = cc
        .patch(
            &format!("/internal/mitras/{mitra}"),
            &access,
            json!({"photo_url": null}),
        )
        .await;
    assert_eq!(
        cleared.body["photo_url"],
        Value::Null,
        "null removes the photo"
    );

    let found = cc.get("/internal/mitras?q=dewi", &access).await;
    assert_eq!(found.body["items"][0]["id"], mitra.to_string());
    let by_phone = cc.get("/internal/mitras?q=%2B62812000000", &access).await;
    assert_eq!(by_phone.body["items"].as_array().unwrap().len(), 1);
    let none = cc.get("/internal/mitras?status=suspended", &access).await;
    assert_eq!(none.body["items"], json!([]));

    let audit = audit_of(&cc.db.pool, mitra).await;
    let actions: Vec<&str> = audit.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "mitra.create",
            "mitra.update",
            "mitra.update",
            "mitra.update"
        ]
    );
    assert!(audit.iter().all(|(actor, _)| *actor == operator));
    let (before, after): (Value, Value) = sqlx::query_as(
        "SELECT before, after FROM audit_log WHERE target_id = $1 AND action = 'mitra.update' ORDER BY id DESC LIMIT 1",
    )
    .bind(mitra.to_string())
    .fetch_one(&cc.db.pool)
    .await
    .unwrap();
    assert_eq!(before["photo_url"], "https://cdn.halobestie.id/dewi.jpg");
    assert_eq!(after["photo_url"], Value::Null);
}

#[tokio::test]
async fn suspending_a_mitra_ends_their_chats_revokes_their_sessions_and_refuses_the_next_refresh() {
    let cc = spawn_cc().await;
    let (_, access) = cc.signed_in("operator").await;
    let SeededChat { mitra, chat, .. } = active_chat(&cc.db.pool, 0).await;
    let phone: String = sqlx::query_scalar("SELECT phone FROM users WHERE id = $1")
        .bind(mitra)
        .fetch_one(&cc.db.pool)
        .await
        .unwrap();
    let session = sign_in(&cc.stack, &phone, v1::OtpAudience::Mitra)
        .await
        .unwrap();

    let suspended = cc
        .post(
            &format!("/internal/mitras/{mitra}/suspend"),
            &access,
            json!({}),
        )
        .await;
    assert_eq!(suspended.status, StatusCode::OK, "{:?}", suspended.body);
    assert_eq!(suspended.body["sessions_revoked"], 1);
    assert_eq!(suspended.body["chats_ended"], 1);
    assert_eq!(suspended.body["mitra"]["status"], "suspended");
    assert_eq!(suspended.body["mitra"]["availability"], "offline");
    let ended = cc.get(&format!("/internal/chats/{chat}"), &access).await;
    assert_eq!(
        (
            ended.body["status"].as_str(),
            ended.body["ended_by"].as_str()
        ),
        (Some("ended"), Some("operator"))
    );

    let core = core_client(&cc.stack);
    let refused = core
        .refresh(
            session.refresh_token,
            &[halo_auth::UserType::Mitra],
            "127.0.0.1".into(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        refused.code, "session_revoked",
        "the mitra app is signed out"
    );
    assert!(
        sign_in(&cc.stack, &phone, v1::OtpAudience::Mitra)
            .await
            .is_err(),
        "a suspended mitra cannot sign in again"
    );
    let audit = audit_of(&cc.db.pool, mitra).await;
    let actions: Vec<&str> = audit.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(actions, ["mitra.suspend", "mitra.end_chats"]);

    let again = cc
        .post(
            &format!("/internal/mitras/{mitra}/suspend"),
            &access,
            json!({}),
        )
        .await;
    assert_eq!(
        (again.status, again.body["chats_ended"].as_i64()),
        (StatusCode::OK, Some(0)),
        "repeating is safe"
    );

    let active = cc
        .post(
            &format!("/internal/mitras/{mitra}/activate"),
            &access,
            json!({}),
        )
        .await;
    assert_eq!(active.body["status"], "active");
    sign_in(&cc.stack, &phone, v1::OtpAudience::Mitra)
        .await
        .expect("an activated mitra signs in again");
    let missing = cc
        .post(
            &format!("/internal/mitras/{}/suspend", Uuid::now_v7()),
            &access,
            json!({}),
        )
        .await;
    assert_eq!(
        (missing.status, missing.error_code()),
        (StatusCode::NOT_FOUND, "mitra_not_found")
    );
}

#[tokio::test]
async fn a_blocked_customer_is_signed_out_and_cannot_sign_in_until_unblocked() {
    let cc = spawn_cc().await;
    let (_, access) = cc.signed_in("operator").await;
    let session = sign_in(&cc.stack, "081234500001", v1::OtpAudience::Customer)
        .await
        .unwrap();
    let customer = session.principal.id.clone();

    let found = cc
        .get("/internal/customers?q=0812-3450-0001", &access)
        .await;
    assert_eq!(
        found.body["items"][0]["id"], customer,
        "found by the phone in local form"
    );
    let blocked = cc
        .post(
            &format!("/internal/customers/{customer}/block"),
            &access,
            json!({}),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::OK, "{:?}", blocked.body);
    assert_eq!(blocked.body["customer"]["status"], "blocked");
    assert_eq!(blocked.body["sessions_revoked"], 1);

    let core = core_client(&cc.stack);
    let refused = core
        .refresh(
            session.refresh_token,
            &[halo_auth::UserType::Customer],
            "127.0.0.1".into(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, "session_revoked");
    let again = sign_in(&cc.stack, "081234500001", v1::OtpAudience::Customer)
        .await
        .unwrap_err();
    assert_eq!(
        again.code, "account_blocked",
        "the app can tell the customer why"
    );
    let listed = cc.get("/internal/customers?status=blocked", &access).await;
    assert_eq!(listed.body["items"][0]["id"], customer);

    cc.post(
        &format!("/internal/customers/{customer}/unblock"),
        &access,
        json!({}),
    )
    .await;
    sign_in(&cc.stack, "081234500001", v1::OtpAudience::Customer)
        .await
        .expect("an unblocked customer signs in");
    let actions: Vec<String> = audit_of(&cc.db.pool, &customer)
        .await
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    assert_eq!(actions, ["customer.block", "customer.unblock"]);
}

#[tokio::test]
async fn a_customer_page_shows_their_orders_and_chats() {
    let cc = spawn_cc().await;
    let (_, access) = cc.signed_in("operator").await;
    let seeded = active_chat(&cc.db.pool, 0).await;
    let page = cc
        .get(&format!("/internal/customers/{}", seeded.customer), &access)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    assert_eq!(page.body["orders"][0]["id"], seeded.order.to_string());
    assert_eq!(page.body["orders"][0]["chat_id"], seeded.chat.to_string());
    assert_eq!(page.body["chats"][0]["id"], seeded.chat.to_string());
    let missing = cc
        .get(&format!("/internal/customers/{}", seeded.mitra), &access)
        .await;
    assert_eq!(
        missing.error_code(),
        "customer_not_found",
        "a mitra is not a customer"
    );
}

#[tokio::test]
async fn every_transcript_read_is_audited_and_pages_in_order() {
    let cc = spawn_cc().await;
    let (operator, access) = cc.signed_in("operator").await;
    let SeededChat { chat, mitra, .. } = active_chat(&cc.db.pool, 5).await;

    let first = cc
        .get(
            &format!("/internal/chats/{chat}/transcript?limit=2"),
            &access,
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let bodies = |a: &halo_testkit::Answer| -> Vec<String> {
        a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(bodies(&first), ["pesan 0", "pesan 1"]);
    assert_eq!(first.body["items"][1]["sender"], "mitra");
    assert_eq!(first.body["items"][1]["sender_id"], mitra.to_string());
    let cursor = first.body["next_cursor"].as_i64().unwrap();
    let rest = cc
        .get(
            &format!("/internal/chats/{chat}/transcript?limit=100&cursor={cursor}"),
            &access,
        )
        .await;
    assert_eq!(bodies(&rest), ["pesan 2", "pesan 3", "pesan 4"]);
    assert_eq!(rest.body["next_cursor"], Value::Null);

    let reads: Vec<(Uuid, String)> = audit_of(&cc.db.pool, chat).await;
    assert_eq!(
        reads,
        vec![(operator, "chat.transcript_read".to_owned()); 2],
        "one entry per read"
    );
    let (request_id, client_ip): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT request_id, client_ip FROM audit_log WHERE target_id = $1 LIMIT 1")
            .bind(chat.to_string())
            .fetch_one(&cc.db.pool)
            .await
            .unwrap();
    assert!(request_id.is_some_and(|id| !id.is_empty()));
    assert_eq!(client_ip.as_deref(), Some("127.0.0.1"));

    let missing = cc
        .get(
            &format!("/internal/chats/{}/transcript", Uuid::now_v7()),
            &access,
        )
        .await;
    assert_eq!(
        (missing.status, missing.error_code()),
        (StatusCode::NOT_FOUND, "chat_not_found")
    );
}

#[tokio::test]
async fn an_operator_lists_filters_and_ends_chats() {
    let cc = spawn_cc().await;
    let (_, access) = cc.signed_in("operator").await;
    let first = active_chat(&cc.db.pool, 0).await;
    let second = active_chat(&cc.db.pool, 3).await;

    let all = cc
        .get("/internal/chats?status=active&limit=1", &access)
        .await;
    assert_eq!(
        all.body["items"][0]["id"],
        second.chat.to_string(),
        "newest first"
    );
    let next = all.body["next_cursor"].as_str().unwrap();
    let page_two = cc
        .get(
            &format!("/internal/chats?status=active&limit=1&cursor={next}"),
            &access,
        )
        .await;
    assert_eq!(page_two.body["items"][0]["id"], first.chat.to_string());
    assert_eq!(page_two.body["next_cursor"], Value::Null);
    let by_mitra = cc
        .get(
            &format!("/internal/chats?mitra_id={}", first.mitra),
            &access,
        )
        .await;
    assert_eq!(by_mitra.body["items"].as_array().unwrap().len(), 1);
    let none = cc
        .get("/internal/chats?from=2099-01-01T00:00:00Z", &access)
        .await;
    assert_eq!(none.body["items"], json!([]));
    let bad = cc.get("/internal/chats?limit=101", &access).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let detail = cc
        .get(&format!("/internal/chats/{}", second.chat), &access)
        .await;
    assert_eq!(detail.body["message_count"], 3);
    assert_eq!(
        detail.body["customer_phone"]
            .as_str()
            .map(|p| p.starts_with("+62")),
        Some(true)
    );
    assert_eq!(detail.body["offers"][0]["outcome"], "accepted");

    let ended = cc
        .post(
            &format!("/internal/chats/{}/end", first.chat),
            &access,
            json!({}),
        )
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{:?}", ended.body);
    assert_eq!(
        (
            ended.body["status"].as_str(),
            ended.body["ended_by"].as_str()
        ),
        (Some("ended"), Some("operator"))
    );
    let topic: String = sqlx::query_scalar(
        "SELECT topic FROM outbox WHERE aggregate_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(first.chat)
    .fetch_one(&cc.db.pool)
    .await
    .unwrap();
    assert_eq!(topic, "chat.ended", "both apps hear of it");
    let again = cc
        .post(
            &format!("/internal/chats/{}/end", first.chat),
            &access,
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let actions: Vec<String> = audit_of(&cc.db.pool, first.chat)
        .await
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    assert_eq!(
        actions,
        ["chat.end"],
        "ending an ended chat changes nothing"
    );
}

#[tokio::test]
async fn only_an_admin_records_a_refund_and_only_once_for_an_order_that_took_money() {
    let cc = spawn_cc().await;
    let (_, operator) = cc.signed_in("operator").await;
    let (admin_id, admin) = cc.signed_in("admin").await;
    let SeededChat { order, .. } = active_chat(&cc.db.pool, 0).await;
    sqlx::query("UPDATE orders SET status = 'refund_required' WHERE id = $1")
        .bind(order)
        .execute(&cc.db.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO payment_events (raw, status, order_id, outcome) VALUES ('{\"status\":\"PAID\"}', 'PAID', $1, 'paid')")
        .bind(order)
        .execute(&cc.db.pool)
        .await
        .unwrap();

    let pending = cc
        .get("/internal/orders?status=refund_required", &operator)
        .await;
    assert_eq!(pending.body["items"][0]["id"], order.to_string());
    let detail = cc
        .get(&format!("/internal/orders/{order}"), &operator)
        .await;
    assert_eq!(detail.body["payment_events"][0]["status"], "PAID");
    assert_eq!(
        detail.body["payment_events"][0]["raw"],
        "{\"status\":\"PAID\"}"
    );

    let path = format!("/internal/orders/{order}/refunded");
    let body = json!({"reference": "rfd_123", "note": "dikembalikan"});
    let refused = cc.post(&path, &operator, body.clone()).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (StatusCode::FORBIDDEN, "admin_only")
    );
    let recorded = cc.post(&path, &admin, body.clone()).await;
    assert_eq!(recorded.status, StatusCode::OK, "{:?}", recorded.body);
    assert_eq!(recorded.body["status"], "refunded");
    assert_eq!(recorded.body["refund_reference"], "rfd_123");
    assert_eq!(recorded.body["refunded_by"], admin_id.to_string());
    let twice = cc.post(&path, &admin, body.clone()).await;
    assert_eq!(
        (twice.status, twice.error_code()),
        (StatusCode::CONFLICT, "already_refunded")
    );
    let audit = audit_of(&cc.db.pool, order).await;
    assert_eq!(audit, [(admin_id, "order.refund".to_owned())]);

    sqlx::query("UPDATE orders SET status = 'expired' WHERE id <> $1")
        .bind(order)
        .execute(&cc.db.pool)
        .await
        .unwrap();
    let other = active_chat(&cc.db.pool, 0).await;
    sqlx::query("UPDATE orders SET status = 'expired', paid_at = NULL WHERE id = $1")
        .bind(other.order)
        .execute(&cc.db.pool)
        .await
        .unwrap();
    let unpaid = cc
        .post(
            &format!("/internal/orders/{}/refunded", other.order),
            &admin,
            body,
        )
        .await;
    assert_eq!(
        (unpaid.status, unpaid.error_code()),
        (StatusCode::CONFLICT, "not_refundable")
    );
}

#[tokio::test]
async fn a_report_shows_its_chat_and_transcript_audited_and_resolves_once() {
    let cc = spawn_cc().await;
    let (operator, access) = cc.signed_in("operator").await;
    let SeededChat { chat, customer, .. } = active_chat(&cc.db.pool, 2).await;
    let report = halo_chats::report(
        &cc.db.pool,
        halo_chats::Party::Customer(customer),
        halo_chats::ChatId(chat),
        halo_chats::ReportReason::Harassment,
        Some("kasar".into()),
    )
    .await
    .unwrap();

    let open = cc.get("/internal/reports?status=open", &access).await;
    assert_eq!(open.body["items"][0]["id"], report.id.to_string());
    assert_eq!(open.body["items"][0]["reason"], "harassment");
    let detail = cc
        .get(&format!("/internal/reports/{}", report.id), &access)
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{:?}", detail.body);
    assert_eq!(detail.body["transcript"].as_array().unwrap().len(), 2);
    assert_eq!(detail.body["chat"]["id"], chat.to_string());
    assert_eq!(
        audit_of(&cc.db.pool, chat).await,
        [(operator, "chat.transcript_read".to_owned())]
    );

    let path = format!("/internal/reports/{}/resolve", report.id);
    let empty = cc.post(&path, &access, json!({"note": "  "})).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let resolved = cc
        .post(&path, &access, json!({"note": "Mitra diberi peringatan."}))
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{:?}", resolved.body);
    assert_eq!(resolved.body["status"], "resolved");
    assert_eq!(resolved.body["resolved_by"], operator.to_string());
    let twice = cc.post(&path, &access, json!({"note": "lagi"})).await;
    assert_eq!(
        (twice.status, twice.error_code()),
        (StatusCode::CONFLICT, "report_resolved")
    );
    let none_open = cc.get("/internal/reports?status=open", &access).await;
    assert_eq!(none_open.body["items"], json!([]));
}

#[tokio::test]
async fn admins_manage_cc_users_and_the_last_admin_stays_an_admin() {
    let cc = spawn_cc().await;
    let (admin_id, admin) = cc.signed_in("admin").await;
    let (_, operator) = cc.signed_in("operator").await;

    for refused in [
        cc.get("/internal/cc-users", &operator).await,
        cc.post(
            "/internal/cc-users",
            &operator,
            json!({"email": "x@halobestie.id", "role": "admin",
            "password": "long enough password"}),
        )
        .await,
    ] {
        assert_eq!(
            (refused.status, refused.error_code()),
            (StatusCode::FORBIDDEN, "admin_only")
        );
    }

    let short = cc
        .post(
            "/internal/cc-users",
            &admin,
            json!({"email": "ayu@halobestie.id", "role": "operator",
        "password": "short"}),
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        short.body["error"]["details"][0]["code"],
        "password_too_short"
    );
    let created = cc
        .post(
            "/internal/cc-users",
            &admin,
            json!({"email": "Ayu@HaloBestie.id", "role": "operator",
        "display_name": "Ayu", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["email"], "ayu@halobestie.id");
    let ayu = id_of(&created.body);
    let dup = cc
        .post(
            "/internal/cc-users",
            &admin,
            json!({"email": "ayu@halobestie.id", "role": "operator",
        "password": "a long enough password"}),
        )
        .await;
    assert_eq!(
        (dup.status, dup.error_code()),
        (StatusCode::CONFLICT, "email_taken")
    );
    let ayu_access = cc
        .login("ayu@halobestie.id", "a long enough password")
        .await;
    assert_eq!(
        ayu_access.status,
        StatusCode::OK,
        "the new operator signs in"
    );
    let ayu_access = ayu_access.body["access_token"].as_str().unwrap().to_owned();

    let reset = cc
        .post(
            &format!("/internal/cc-users/{ayu}/reset-password"),
            &admin,
            json!({"password": "another long password"}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{:?}", reset.body);
    assert_eq!(
        cc.login("ayu@halobestie.id", "a long enough password")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        cc.login("ayu@halobestie.id", "another long password")
            .await
            .status,
        StatusCode::OK
    );

    let disabled = cc
        .patch(
            &format!("/internal/cc-users/{ayu}"),
            &admin,
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(disabled.body["disabled"], true);
    let locked_out = cc.get("/internal/dashboard", &ayu_access).await;
    assert_eq!(
        locked_out.error_code(),
        "account_disabled",
        "a disabled operator's token stops at once"
    );

    let demote_self = cc
        .patch(
            &format!("/internal/cc-users/{admin_id}"),
            &admin,
            json!({"role": "operator"}),
        )
        .await;
    assert_eq!(
        (demote_self.status, demote_self.error_code()),
        (StatusCode::CONFLICT, "last_admin")
    );
    let disable_self = cc
        .patch(
            &format!("/internal/cc-users/{admin_id}"),
            &admin,
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(disable_self.error_code(), "last_admin");
    let promoted = cc
        .patch(
            &format!("/internal/cc-users/{ayu}"),
            &admin,
            json!({"role": "admin", "disabled": false}),
        )
        .await;
    assert_eq!(promoted.body["role"], "admin");
    let now_allowed = cc
        .patch(
            &format!("/internal/cc-users/{admin_id}"),
            &admin,
            json!({"role": "operator"}),
        )
        .await;
    assert_eq!(
        now_allowed.status,
        StatusCode::OK,
        "another admin is active now"
    );

    let ayu_again = cc.login("ayu@halobestie.id", "another long password").await;
    let listed = cc
        .get(
            "/internal/cc-users",
            ayu_again.body["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        3,
        "the new admin lists every CC user"
    );
    let actions: Vec<String> = audit_of(&cc.db.pool, ayu)
        .await
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    assert_eq!(
        actions,
        [
            "cc_user.create",
            "cc_user.reset_password",
            "cc_user.update",
            "cc_user.update"
        ]
    );
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_action_and_target_and_pages() {
    let cc = spawn_cc().await;
    let (first, access) = cc.signed_in("operator").await;
    let (_, other) = cc.signed_in("operator").await;
    let SeededChat { chat, .. } = active_chat(&cc.db.pool, 1).await;
    for _ in 0..3 {
        cc.get(&format!("/internal/chats/{chat}/transcript"), &access)
            .await;
    }
    cc.post(&format!("/internal/chats/{chat}/end"), &other, json!({}))
        .await;

    let mine = cc
        .get(
            &format!("/internal/audit-log?actor_id={first}&limit=2"),
            &access,
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{:?}", mine.body);
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 2);
    let cursor = mine.body["next_cursor"].as_i64().unwrap();
    let rest = cc
        .get(
            &format!("/internal/audit-log?actor_id={first}&cursor={cursor}"),
            &access,
        )
        .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    let ends = cc
        .get(
            &format!("/internal/audit-log?action=chat.end&target_type=chat&target_id={chat}"),
            &access,
        )
        .await;
    assert_eq!(ends.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(ends.body["items"][0]["after"]["ended_by"], "operator");
    assert!(
        ends.body["items"][0]["actor_email"]
            .as_str()
            .unwrap()
            .ends_with("@cc.test")
    );
}

#[tokio::test]
async fn settings_changes_are_audited_with_before_and_after() {
    let cc = spawn_cc().await;
    let (admin_id, admin) = cc.signed_in("admin").await;
    let etag = cc.etag(&admin).await;
    let answer = cc
        .patch_settings(&admin, Some(&etag), json!({"max_customers_per_mitra": 4}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let (actor, before, after): (Uuid, Value, Value) = sqlx::query_as(
        "SELECT actor_id, before, after FROM audit_log WHERE action = 'settings.update' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&cc.db.pool)
    .await
    .unwrap();
    assert_eq!(actor, admin_id);
    assert_eq!(after["max_customers_per_mitra"], 4);
    assert_ne!(before["max_customers_per_mitra"], 4);
}

#[tokio::test]
async fn the_dashboard_counts_now_and_today_and_the_event_stream_pushes_changes_and_reports() {
    let cc = spawn_cc().await;
    let (_, access) = cc.signed_in("operator").await;
    let seeded = active_chat(&cc.db.pool, 0).await;
    sqlx::query("UPDATE mitra_presence SET last_beat_at = now()")
        .execute(&cc.db.pool)
        .await
        .unwrap();

    let dashboard = cc.get("/internal/dashboard", &access).await;
    assert_eq!(dashboard.status, StatusCode::OK, "{:?}", dashboard.body);
    assert_eq!(dashboard.body["chats_active"], 1);
    assert_eq!(dashboard.body["mitras_online"], 1);
    assert_eq!(dashboard.body["orders_today"], 1);
    assert_eq!(dashboard.body["revenue_today_idr"], 25000);
    assert_eq!(dashboard.body["reports_open"], 0);

    let mut stream = cc
        .http
        .get(cc.url("/internal/events"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut seen = String::new();
    let mut read_until = async |needle: &str| {
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while !seen.contains(needle) {
                let chunk = stream
                    .chunk()
                    .await
                    .unwrap()
                    .expect("the stream stays open");
                seen.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {needle} within 10 s; got {seen}"));
    };
    read_until("event: dashboard").await;

    halo_chats::report(
        &cc.db.pool,
        halo_chats::Party::Customer(seeded.customer),
        halo_chats::ChatId(seeded.chat),
        halo_chats::ReportReason::SelfHarmRisk,
        None,
    )
    .await
    .unwrap();
    read_until("event: report.opened").await;
    read_until("\"reports_open\":1").await;
}

#[tokio::test]
async fn cors_lets_the_spa_origin_call_every_internal_route_with_credentials() {
    let cc = spawn_cc().await;
    let preflight = cc
        .send(
            cc.http
                .request(
                    reqwest::Method::OPTIONS,
                    cc.url("/internal/mitras/00000000-0000-0000-0000-000000000000/suspend"),
                )
                .header("origin", common::ORIGIN)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization"),
        )
        .await;
    assert_eq!(
        preflight.headers["access-control-allow-origin"],
        common::ORIGIN
    );
    assert_eq!(
        preflight.headers["access-control-allow-credentials"],
        "true"
    );
    let other = cc
        .send(
            cc.http
                .request(reqwest::Method::OPTIONS, cc.url("/internal/chats"))
                .header("origin", "https://evil.example")
                .header("access-control-request-method", "GET"),
        )
        .await;
    assert!(other.headers.get("access-control-allow-origin").is_none());
}

#[test]
fn the_document_keeps_a_message_senders_role_apart_from_a_cc_users_role() {
    let doc = serde_json::to_value(internal_cc::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let enum_of = |schema: &str, field: &str| {
        let reference = schemas[schema]["properties"][field]["$ref"]
            .as_str()
            .unwrap();
        let name = reference.rsplit('/').next().unwrap();
        schemas[name]["enum"].clone()
    };
    assert_eq!(
        enum_of("TranscriptMessage", "sender"),
        json!(["customer", "mitra"])
    );
    assert_eq!(
        enum_of("CcUserRecord", "role"),
        json!(["admin", "operator"])
    );
}
