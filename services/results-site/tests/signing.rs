//! Signed snapshots: with a signing key the site serves each snapshot's Ed25519 signature and
//! the public key that checks it; without one both are 404.

mod support;

use support::{values, Platform, RANKING};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_carry_the_sites_signature_when_it_holds_a_key() -> anyhow::Result<()> {
    use ed25519_dalek::pkcs8::{DecodePublicKey, EncodePrivateKey};
    use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};

    let key_dir = tempfile::tempdir()?;
    let key_path = key_dir.path().join("signing-key.pem");
    let key = SigningKey::from_bytes(&[42; 32]);
    std::fs::write(&key_path, key.to_pkcs8_pem(Default::default())?.as_bytes())?;
    let platform = Platform::start_with(|settings| {
        settings.signing_key_path = Some(key_path.clone());
    })
    .await?;
    platform
        .published_round(2023, &[("quan-1", values(7, 4)), ("quan-3", values(9, 8))])
        .await?;

    let snapshot = platform.get(&format!("{RANKING}/snapshot.json")).await;
    snapshot.expect(200);
    let signature = platform.get(&format!("{RANKING}/snapshot.json.sig")).await;
    signature.expect(200);
    assert_eq!(signature.header("content-type"), "application/octet-stream");
    assert!(signature
        .header("content-disposition")
        .contains(".json.sig"));
    let public_pem = platform.get("/signing-key.pem").await;
    public_pem.expect(200);
    let public = VerifyingKey::from_public_key_pem(&public_pem.text())?;
    assert_eq!(
        public,
        key.verifying_key(),
        "the served key is the configured one"
    );
    let signature = Signature::from_slice(&signature.body)?;
    assert!(public.verify(&snapshot.body, &signature).is_ok());
    let mut tampered = snapshot.body.to_vec();
    tampered[10] ^= 1;
    assert!(public.verify(&tampered, &signature).is_err());
    // The pages link the signature and the key.
    let page = platform.get(RANKING).await.text();
    assert!(page.contains("snapshot.json.sig") && page.contains("/signing-key.pem"));
    platform.stop().await?;

    // Without a key: no signature, no key, and the pages do not offer them.
    let unsigned = Platform::start().await?;
    unsigned
        .published_round(2023, &[("quan-1", values(7, 4))])
        .await?;
    unsigned
        .get(&format!("{RANKING}/snapshot.json.sig"))
        .await
        .expect(404);
    unsigned.get("/signing-key.pem").await.expect(404);
    assert!(!unsigned
        .get(RANKING)
        .await
        .text()
        .contains("snapshot.json.sig"));
    unsigned.stop().await
}
