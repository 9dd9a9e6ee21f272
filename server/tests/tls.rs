//! HTTPS with the server's own certificate (rustls): a client that trusts the certificate gets the
//! pages, cookies are Secure and answers carry HSTS. The certificate is made by the `openssl`
//! command for the test; `curl` is the client.

mod support;

use std::process::Command;

use support::*;

#[test]
fn https_with_a_certificate_serves_secure_cookies_and_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed (scripts/setup.sh)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let db = dir.path().join("log.db");
    simulated_store(&db, 4, 1);
    let mut config = fresh_config(&db);
    config.tls = Some((cert.clone(), key));
    let srv = TestServer::start_with(config, "127.0.0.1:0".parse().unwrap());
    let https = format!("https://{}", srv.addr);

    let out = Command::new("curl")
        .args(["-s", "-i", "--max-time", "30", "--cacert"])
        .arg(&cert)
        .arg(format!("{https}/signin"))
        .output()
        .expect("curl is installed");
    let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("http/"), "{text}");
    assert!(text.lines().next().unwrap().contains(" 200"), "{text}");
    let cookie = text
        .lines()
        .find(|l| l.starts_with("set-cookie: tm_signin="))
        .expect("the form's cookie");
    assert!(
        cookie.contains("; secure") && cookie.contains("httponly"),
        "{cookie}"
    );
    assert!(
        text.contains("strict-transport-security: max-age="),
        "{text}"
    );

    // The read API over HTTPS with an account's token.
    let out = Command::new("curl")
        .args(["-s", "--max-time", "30", "--cacert"])
        .arg(&cert)
        .args(["-H", &format!("Authorization: Bearer {}", srv.token)])
        .arg(format!("{https}/api/v1/summary"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["overview"]["users"], 4);

    // A client that does not trust the certificate is refused by its own TLS check, and plain
    // HTTP gets no page.
    let untrusted = Command::new("curl")
        .args(["-s", "--max-time", "30"])
        .arg(format!("{https}/signin"))
        .output()
        .unwrap();
    assert!(!untrusted.status.success());
    let plain = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "30",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .arg(srv.url("/signin"))
        .output()
        .unwrap();
    assert_ne!(String::from_utf8_lossy(&plain.stdout), "200");
}
