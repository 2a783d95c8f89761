//! A data directory shared by several instances: started together on an empty directory they
//! agree on one issuer key, one CA and one 随申码 secret, and rotations from several of them at
//! once each get their own kid. Each thread opens the directory as a separate instance would
//! (its own lock file handle).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::sync::Barrier;

use central::server::DataDir;
use protocol::keys::Signer;
use time::macros::datetime;

const INSTANCES: usize = 6;

/// Runs `f` on `INSTANCES` threads released at the same moment; returns their results.
fn together<T: Send>(f: impl Fn() -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(INSTANCES);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..INSTANCES)
            .map(|_| {
                let (barrier, f) = (&barrier, &f);
                scope.spawn(move || {
                    barrier.wait();
                    f()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn instances_starting_together_agree_on_keys_ca_and_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    let now = datetime!(2026-11-21 10:00 UTC);

    let seen = together(|| {
        let data = DataDir::new(&path);
        let keys = data.issuer_keys().unwrap();
        let current = keys.current().unwrap();
        let ca = data.pki(&[]).unwrap().ca_pem().to_owned();
        let token = data.suishen_secret().unwrap().issue(42, now);
        (current.kid(), current.private_key_bytes(), ca, token)
    });

    let distinct: BTreeSet<_> = seen.iter().collect();
    assert_eq!(
        distinct.len(),
        1,
        "every instance holds the same key, CA and secret"
    );
    let (kid, key, ca, token) = seen.into_iter().next().unwrap();
    assert_eq!(kid, 1);
    // What they hold is what the directory holds.
    let data = DataDir::new(&path);
    let keys = data.issuer_keys().unwrap();
    assert_eq!(keys.key_set().iter().count(), 1);
    assert_eq!(keys.current().unwrap().private_key_bytes(), key);
    assert_eq!(data.ca().unwrap().ca_pem(), ca);
    assert_eq!(data.suishen_secret().unwrap().issue(42, now), token);
}

#[test]
fn rotations_at_the_same_moment_each_get_their_own_kid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    DataDir::new(&path).issuer_keys().unwrap();

    let kids = together(|| DataDir::new(&path).rotate_issuer_key().unwrap());

    let kids: BTreeSet<u8> = kids.into_iter().collect();
    let expected: BTreeSet<u8> = (2..=u8::try_from(INSTANCES).unwrap() + 1).collect();
    assert_eq!(kids, expected);
    let keys = DataDir::new(&path).issuer_keys().unwrap();
    assert_eq!(keys.key_set().iter().count(), INSTANCES + 1);
    assert_eq!(
        keys.current().unwrap().kid(),
        u8::try_from(INSTANCES).unwrap() + 1
    );
}
