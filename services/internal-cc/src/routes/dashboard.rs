//! `/internal/dashboard` and its live feed, `/internal/events`.

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt, stream};
use halo_proto::ApiError;
use halo_web::{EdgeState, ErrorBody, Json};
use tokio::sync::broadcast::error::RecvError;

use crate::roles::Operator;
use crate::services::dashboard::{self as service, Dashboard, DashboardFeed, FeedEvent};

/// What is happening now, and today in Asia/Jakarta.
#[utoipa::path(get, path = "/internal/dashboard", operation_id = "cc_dashboard", tag = "dashboard", security(("bearer" = [])),
    responses((status = 200, description = "the dashboard", body = Dashboard),
        (status = 403, description = "`account_disabled`", body = ErrorBody)))]
pub async fn get(
    State(state): State<EdgeState>,
    _operator: Operator,
) -> Result<Json<Dashboard>, ApiError> {
    Ok(Json(service::snapshot(&state.db, &state.knobs).await?))
}

fn sse_event(event: &FeedEvent) -> Option<Event> {
    let (name, data) = match event {
        FeedEvent::Dashboard(dashboard) => ("dashboard", serde_json::to_string(&**dashboard)),
        FeedEvent::ReportOpened(report) => ("report.opened", serde_json::to_string(&**report)),
    };
    data.ok()
        .map(|data| Event::default().event(name).data(data))
}

/// Server-Sent Events for the CC, so it needs no polling: a `dashboard`
/// event at once and whenever a figure changes (checked every 2 s), and a
/// `report.opened` event (the report, as in `GET /internal/reports/{id}`)
/// for each new report. A comment every 15 s keeps proxies from closing
/// the stream. `EventSource` cannot send the bearer token: read the stream
/// with `fetch` (e.g. `@microsoft/fetch-event-source`), and reconnect with
/// a fresh token when it ends.
#[utoipa::path(get, path = "/internal/events", operation_id = "cc_events", tag = "dashboard", security(("bearer" = [])),
    responses((status = 200, description = "an endless `text/event-stream`: events `dashboard` (data: Dashboard) and `report.opened` (data: ReportRecord)",
            content_type = "text/event-stream", body = String),
        (status = 403, description = "`account_disabled`", body = ErrorBody)))]
pub async fn events(
    State(state): State<EdgeState>,
    Extension(feed): Extension<DashboardFeed>,
    _operator: Operator,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let receiver = feed.subscribe();
    let first = service::snapshot(&state.db, &state.knobs).await?;
    let first = sse_event(&FeedEvent::Dashboard(first.into()));
    let rest = stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(event) => {
                    if let Some(event) = sse_event(&event) {
                        return Some((Ok(event), receiver));
                    }
                }
                // A slow reader missed some; the next dashboard event
                // carries the current figures anyway.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let stream = stream::iter(first.map(Ok::<_, Infallible>)).chain(rest);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
