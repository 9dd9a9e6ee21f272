//! A recorded person signs in to their own page with the access code their recorder derived
//! (`recorder::Privacy::access_code`, what `taskmine record --access-code` prints): the uploader's
//! batches carry its verifier, the server keeps it for the pseudonym whose events came with it, and
//! the code alone then opens that person's page and nobody else's. A wrong code, a forged verifier
//! from another agent and a verifier for a pseudonym without events open nothing.

mod support;

use recorder::{Policy, Privacy};
use server::client::{Forwarder, UploaderConfig};
use server::wire::PersonVerifier;
use support::*;
use uilog::{Event, EventKind, ValueHash};

fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into()
}

fn set_cookie(resp: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Signs in through the form with a code (and a pseudonym, empty for a recorder's code); returns
/// the status and the person's session cookie.
fn sign_in(srv: &TestServer, pseudonym: &str, code: &str) -> (u16, Option<String>) {
    let agent = no_redirects();
    let form = agent.get(&srv.url("/me/signin")).call().unwrap();
    assert_eq!(form.status().as_u16(), 200);
    let token = set_cookie(&form, "tm_me_signin").expect("the form sets its cookie");
    let body =
        serde_urlencoded::to_string([("pseudonym", pseudonym), ("code", code), ("csrf", &token)])
            .unwrap();
    let resp = agent
        .post(&srv.url("/me/signin"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", &format!("tm_me_signin={token}"))
        .send(body.as_bytes())
        .unwrap();
    let status = resp.status().as_u16();
    if status == 303 {
        let to = resp.headers().get("location").unwrap().to_str().unwrap();
        assert_eq!(to, "/me");
    }
    (status, set_cookie(&resp, "tm_person"))
}

fn page(srv: &TestServer, sid: &str) -> String {
    let resp = no_redirects()
        .get(&srv.url("/me"))
        .header("Cookie", &format!("tm_person={sid}"))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.into_body().read_to_string().unwrap()
}

fn typed(user: &str, ts: i64, title: &str, text: Option<&str>, hash: Option<u64>) -> Event {
    let mut e = Event::new("s1", user, ts, EventKind::Type);
    e.host = "host-1".into();
    e.app = "thunderbird".into();
    e.window = title.into();
    e.text = text.map(str::to_owned);
    e.value_hash = hash.map(ValueHash);
    e
}

fn actions(db: &std::path::Path) -> Vec<(String, String, String)> {
    let store = uilog::Store::open(db).unwrap();
    server::audit::list(store.connection(), 1000)
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.detail))
        .collect()
}

#[test]
fn a_recorder_derived_code_opens_its_persons_page_once_the_batches_carry_its_verifier() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let (alice_token, bob_token) = {
        let store = uilog::Store::open(&db).unwrap();
        (
            server::agents::add(&store, "alice-desk").unwrap(),
            server::agents::add(&store, "bob-desk").unwrap(),
        )
    };
    let srv = TestServer::start_with(fresh_config(&db), "127.0.0.1:0".parse().unwrap());

    // What the recorder on Alice's desktop makes from its key and her login name.
    let privacy = Privacy::new(Policy::default(), &[9; 32]).unwrap();
    let alice = privacy.user("alice");
    let code = privacy.access_code("alice");
    let verifier = server::people::verifier(&alice, &code).unwrap();
    assert!(!alice.contains("alice") && !code.contains(&alice));

    // Before any batch brought the verifier, the code opens nothing.
    assert_eq!(sign_in(&srv, "", &code).0, 401);

    // Bob's desktop sends without verifiers, as recorders before this change did.
    let bob = privacy.user("bob");
    let bob_events: Vec<Event> = (0..3)
        .map(|i| {
            typed(
                &bob,
                1_700_000_000_000_000 + i,
                "Bob private title",
                None,
                None,
            )
        })
        .collect();
    let (status, text) = post(
        &srv.url("/api/v1/events"),
        Some(&bob_token),
        &batch_json("bob-1", &bob_events),
        false,
    );
    assert_eq!(status, 200, "{text}");

    // Alice's recorder writes its local log; the uploader forwards it with her verifier.
    let local = dir.path().join("alice.db");
    let mut events = Vec::new();
    for i in 0..4i64 {
        events.push(typed(
            &alice,
            1_700_000_100_000_000 + i * 1_000_000,
            &format!("Invoice {} - Mail", 4711 + i),
            (i == 3).then_some("****** ****"),
            Some(0xabc0 + i as u64),
        ));
    }
    {
        let mut store = uilog::Store::open(&local).unwrap();
        store
            .write_batch(None, "recorder", |sink| -> uilog::Result<()> {
                for e in &events {
                    sink.push(e)?;
                }
                Ok(())
            })
            .unwrap();
    }
    let mut cfg = UploaderConfig::new(&srv.url(""), &alice_token, dir.path().join("alice.spool"));
    cfg.access = vec![PersonVerifier {
        pseudonym: alice.clone(),
        verifier: verifier.clone(),
    }];
    let mut fwd = Forwarder::open(&local, cfg).unwrap();
    let sent = fwd.sync().unwrap();
    assert_eq!(
        (sent.events_written, sent.unreachable.clone()),
        (4, None),
        "{sent:?}"
    );

    // The code alone (typed in lower case) opens Alice's page, and only hers.
    let (status, sid) = sign_in(&srv, "", &code.to_lowercase());
    assert_eq!(status, 303);
    let body = page(&srv, &sid.unwrap());
    assert!(body.contains(&alice), "{body}");
    assert!(!body.contains(&bob) && !body.contains("Bob private title"));
    // The latest events as stored: newest first, titles as written, values masked or hashed.
    let stored: Vec<&str> = body.split("<tr class=\"me-event\">").skip(1).collect();
    assert_eq!(stored.len(), 4, "{body}");
    assert!(stored[0].contains("Invoice 4714 - Mail"), "{}", stored[0]);
    assert!(stored[0].contains("****** ****"), "{}", stored[0]);
    assert!(stored[3].contains("Invoice 4711 - Mail"), "{}", stored[3]);
    assert!(
        stored[3].contains(&format!("{:016x}", 0xabc0)),
        "{}",
        stored[3]
    );

    // One symbol off, it opens nothing, and the failure is in the audit trail.
    let last = code.chars().last().unwrap();
    let wrong = format!(
        "{}{}",
        &code[..code.len() - 1],
        if last == '2' { '3' } else { '2' }
    );
    assert_eq!(sign_in(&srv, "", &wrong), (401, None));
    // Alice's code with Bob's pseudonym does not open Bob's page either.
    assert_eq!(sign_in(&srv, &bob, &code), (401, None));

    // Bob's agent claims Alice's pseudonym with a verifier of a code of its own: the first one
    // stays, and the attempt is audited.
    let forged_code = "2222-3333-4444-5555-6666-7777";
    let forged = serde_json::to_vec(&serde_json::json!({
        "batch_id": "bob-2",
        "events": [typed(&alice, 1_700_000_200_000_000, "Forged", None, None)],
        "access": [{"pseudonym": alice, "verifier": server::people::verifier(&alice, forged_code).unwrap()}],
    }))
    .unwrap();
    let (status, text) = post(&srv.url("/api/v1/events"), Some(&bob_token), &forged, false);
    assert_eq!(status, 200, "{text}");
    assert_eq!(sign_in(&srv, "", forged_code).0, 401);
    assert_eq!(sign_in(&srv, "", &code).0, 303);

    // A verifier for a pseudonym without events in the batch is not kept.
    let nobody_code = "3333-4444-5555-6666-7777-8888";
    let stray = serde_json::to_vec(&serde_json::json!({
        "batch_id": "bob-3",
        "events": [typed(&bob, 1_700_000_300_000_000, "Bob private title", None, None)],
        "access": [{"pseudonym": "user-nobody", "verifier": server::people::verifier("user-nobody", nobody_code).unwrap()}],
    }))
    .unwrap();
    let (status, text) = post(&srv.url("/api/v1/events"), Some(&bob_token), &stray, false);
    assert_eq!(status, 200, "{text}");
    assert_eq!(sign_in(&srv, "", nobody_code).0, 401);

    // A malformed verifier fails the batch, naming the field.
    let bad = serde_json::to_vec(&serde_json::json!({
        "batch_id": "bob-4",
        "events": [typed(&bob, 1_700_000_400_000_000, "x", None, None)],
        "access": [{"pseudonym": bob, "verifier": "not hex"}],
    }))
    .unwrap();
    let (status, text) = post(&srv.url("/api/v1/events"), Some(&bob_token), &bad, false);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("access[0].verifier"), "{text}");

    srv.stop();
    // The trail: the verifier kept from Alice's desk, the conflict from Bob's, the failed and the
    // good sign-ins; Alice named by hash only, the code-only failures by nobody.
    let trail = actions(&db);
    let alice_ref = server::erasure::person_ref(&alice);
    let has = |actor: &str, action: &str, detail: &str| {
        trail
            .iter()
            .any(|(a, b, c)| a == actor && b == action && c == detail)
    };
    assert!(
        has("agent:alice-desk", "person.verifier", &alice_ref),
        "{trail:?}"
    );
    assert!(
        has("agent:bob-desk", "person.verifier.conflict", &alice_ref),
        "{trail:?}"
    );
    assert!(has(&alice_ref, "person.signin", ""), "{trail:?}");
    assert!(
        has("person#unknown", "person.signin.failed", ""),
        "{trail:?}"
    );
    assert!(
        has(
            &server::erasure::person_ref(&bob),
            "person.signin.failed",
            ""
        ),
        "{trail:?}"
    );
    let text = format!("{trail:?}");
    assert!(!text.contains(&alice) && !text.contains(&code) && !text.contains(&verifier));
    let nobody_ref = server::erasure::person_ref("user-nobody");
    assert!(!trail.iter().any(|(_, _, d)| *d == nobody_ref), "{trail:?}");

    // Erasing Alice takes her verifier too: neither it nor her pseudonym is left in the file or
    // its WAL, where both were before.
    let file_bytes = || {
        let mut bytes = std::fs::read(&db).unwrap();
        bytes.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
        bytes
    };
    let holds =
        |bytes: &[u8], needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    let before = file_bytes();
    assert!(holds(&before, &verifier) && holds(&before, &alice));
    let mut store = uilog::Store::open(&db).unwrap();
    server::erasure::erase(&mut store, &alice, "cli:test", "local", true).unwrap();
    drop(store);
    let after = file_bytes();
    assert!(
        !holds(&after, &verifier),
        "Alice's verifier is still in the database"
    );
    assert!(
        !holds(&after, &alice),
        "Alice's pseudonym is still in the database"
    );
}
