//! A local JWKS endpoint with RSA keys the test generates, standing in for
//! Google's and Apple's, and a signer for ID tokens under those keys.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

struct Key {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

fn generate(kid: &str) -> Key {
    let private =
        rsa::RsaPrivateKey::new(&mut rand08::thread_rng(), 2048).expect("RSA key generation");
    let pem = private
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .expect("PEM encoding");
    Key {
        kid: kid.to_owned(),
        encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("PEM decodes"),
        jwk: json!({
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        }),
    }
}

#[derive(Clone)]
pub struct JwksServer {
    pub url: String,
    keys: Arc<Mutex<Vec<Key>>>,
    fetches: Arc<AtomicUsize>,
}

impl JwksServer {
    /// Serves one fresh key at `<url>` with `Cache-Control: max-age=3600`.
    pub async fn start() -> Self {
        let keys = Arc::new(Mutex::new(vec![generate("key-1")]));
        let fetches = Arc::new(AtomicUsize::new(0));
        let app = Router::new().route(
            "/keys",
            get({
                let (keys, fetches) = (keys.clone(), fetches.clone());
                move || {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    let set: Vec<Value> =
                        keys.lock().unwrap().iter().map(|k| k.jwk.clone()).collect();
                    async move {
                        (
                            [("cache-control", "public, max-age=3600")],
                            axum::Json(json!({ "keys": set })),
                        )
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/keys", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, keys, fetches }
    }

    /// Replaces the served key with a new one (the provider rotated);
    /// returns its kid.
    pub fn rotate(&self) -> String {
        let mut keys = self.keys.lock().unwrap();
        let kid = format!("key-{}", keys.len() + 1 + self.fetches());
        *keys = vec![generate(&kid)];
        kid
    }

    /// Signs `claims` (RS256) with the current key.
    pub fn sign(&self, claims: &Value) -> String {
        let keys = self.keys.lock().unwrap();
        let key = keys.last().expect("a key");
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding).expect("RS256 signing")
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}
