//! The CC session in a real browser. The refresh cookie is `SameSite=Strict`,
//! so whether the SPA stays signed in depends on the browser's idea of
//! "same site", which a hand-set `Cookie` header cannot show. This drives a
//! tiny SPA in headless Chromium (deploy/local/test.sh installs it): login,
//! cookie refresh, then a list call. The page is always on
//! `http://localhost:<port>`; the API is either on `localhost` too (same
//! site, the supported setup) or on `127.0.0.1`, another site just as two
//! `*.run.app` hosts are, since `run.app` is a public suffix.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use common::{PASSWORD, spawn_cc_with_origins};
use reqwest::Url;
use serde_json::{Value, json};

const OPERATOR: &str = "ops@halobestie.id";

/// What the CC SPA does on start: sign in, refresh from the cookie, list.
/// The list call uses the refreshed access token when there is one, the
/// login's otherwise. Writes `{login, refresh, list}` into `#result`.
const SPA: &str = r#"<!doctype html>
<html><body><pre id="result"></pre>
<script>
const params = new URLSearchParams(location.search);

async function call(path, init) {
  try {
    const response = await fetch(params.get("api") + path, { credentials: "include", ...init });
    const body = await response.json().catch(() => null);
    return { status: response.status, code: body?.error?.code ?? null, body };
  } catch (error) {
    return { status: 0, code: String(error), body: null };
  }
}

async function run() {
  const login = await call("/internal/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: params.get("email"), password: params.get("password") }),
  });
  const refresh = await call("/internal/auth/refresh", { method: "POST" });
  const tokenFrom = refresh.status === 200 ? "refresh" : "login";
  const access = (tokenFrom === "refresh" ? refresh : login).body?.access_token;
  const list = await call("/internal/chats?limit=5", {
    headers: { authorization: "Bearer " + access },
  });
  const step = ({ status, code }) => ({ status, code });
  return {
    login: step(login),
    refresh: step(refresh),
    list: { ...step(list), token_from: tokenFrom, listed: Array.isArray(list.body?.items) },
  };
}

run().then(steps => {
  document.getElementById("result").textContent = JSON.stringify(steps);
});
</script></body></html>"#;

/// Same site (the supported setup): the cookie set at login comes back on
/// refresh, so the SPA keeps its session past the access token's hour.
#[tokio::test]
async fn an_spa_on_the_same_site_as_internal_cc_refreshes_from_its_cookie() {
    let page = on_localhost(&serve_spa().await);
    let cc = spawn_cc_with_origins(&page).await;
    cc.add_operator(OPERATOR, "operator").await;

    let steps = run_spa(&page, &on_localhost(&cc.base)).await;

    assert_eq!(
        steps["login"],
        json!({"status": 200, "code": null}),
        "operators could not sign in to the CC: {steps}"
    );
    assert_eq!(
        steps["refresh"],
        json!({"status": 200, "code": null}),
        "the browser did not send the refresh cookie to the same site; \
         operators would be signed out every hour: {steps}"
    );
    assert_eq!(
        steps["list"],
        json!({"status": 200, "code": null, "token_from": "refresh", "listed": true}),
        "the refreshed access token did not list anything; every CC page \
         would fail after the first hour: {steps}"
    );
}

/// Another site: CORS lets the SPA sign in and call the API, but Chromium
/// never sends the `SameSite=Strict` cookie, so every refresh is a 401.
/// If this starts failing, Chromium changed how it treats the cookie and
/// the "same site" rule in the README and runbook needs a new look.
#[tokio::test]
async fn an_spa_on_another_site_never_gets_its_refresh_cookie_back() {
    let page = on_localhost(&serve_spa().await);
    let cc = spawn_cc_with_origins(&page).await;
    cc.add_operator(OPERATOR, "operator").await;

    let steps = run_spa(&page, &cc.base).await;

    assert_eq!(
        steps["login"],
        json!({"status": 200, "code": null}),
        "CORS refused the sign-in from the allowed origin; operators could \
         not sign in at all: {steps}"
    );
    assert_eq!(
        steps["refresh"],
        json!({"status": 401, "code": "missing_refresh_cookie"}),
        "a cross-site SPA should lose the refresh cookie (operators signed \
         out every hour); the docs' same-site rule rests on this: {steps}"
    );
    assert_eq!(
        steps["list"],
        json!({"status": 200, "code": null, "token_from": "login", "listed": true}),
        "the login's access token should still work cross-site until it \
         expires; only the cookie is lost: {steps}"
    );
}

/// Serves [`SPA`] at `/` on its own port; returns its base URL.
async fn serve_spa() -> String {
    let app = Router::new().route("/", get(|| async { Html(SPA) }));
    halo_testkit::serve(|listener| async move { Ok(axum::serve(listener, app).await?) }).await
}

/// The same listener under the name `localhost`: a different site from
/// `127.0.0.1`, and one where Chromium accepts `Secure` cookies over http.
fn on_localhost(base: &str) -> String {
    base.replacen("127.0.0.1", "localhost", 1)
}

/// Opens the SPA at `page` against the API at `api` in headless Chromium
/// and returns the steps it wrote into `#result`.
async fn run_spa(page: &str, api: &str) -> Value {
    let mut url = Url::parse(page).expect("page URL");
    url.query_pairs_mut()
        .append_pair("api", api)
        .append_pair("email", OPERATOR)
        .append_pair("password", PASSWORD);
    let dom = dump_dom(&url).await;
    let result = dom
        .split_once(r#"<pre id="result">"#)
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(text, _)| unescape_text(text))
        .unwrap_or_default();
    serde_json::from_str(&result)
        .unwrap_or_else(|_| panic!("the SPA did not finish its calls; Chromium's DOM was:\n{dom}"))
}

/// Chromium's `--dump-dom` of `url`. Virtual time stands still while
/// fetches are pending, so the budget only runs out once the page's calls
/// have settled; the timeout is for a browser that hangs.
async fn dump_dom(url: &Url) -> String {
    let profile = Profile::new();
    let bin = chromium();
    let run = tokio::process::Command::new(&bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.0.display()))
        .arg(url.as_str())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("Chromium finished within 60 s")
        .unwrap_or_else(|err| {
            panic!(
                "cannot start {}: {err}; run deploy/local/test.sh, which installs Chromium",
                bin.display()
            )
        });
    assert!(
        output.status.success(),
        "Chromium failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("Chromium dumps UTF-8")
}

/// `CHROMIUM_BIN`, else `chromium` or `chromium-browser` on PATH. A missing
/// browser fails the test: skipping would hide the one check that the
/// deployment's cookie setup works in a browser.
fn chromium() -> PathBuf {
    if let Some(bin) = std::env::var_os("CHROMIUM_BIN") {
        return bin.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .expect(
            "this test needs headless Chromium (CHROMIUM_BIN, or chromium on PATH); \
             run deploy/local/test.sh, which installs it with apt",
        )
}

/// Undoes `--dump-dom`'s escaping of text (it also escapes no-break
/// spaces, which this JSON never holds).
fn unescape_text(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A fresh Chromium profile, so no cookie outlives its test; removed on drop.
struct Profile(PathBuf);

impl Profile {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("halo-cc-browser-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir(&dir).expect("a temp profile directory");
        Self(dir)
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
