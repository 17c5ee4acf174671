//! Breached-password stores on generated data in HIBP's real formats (SHA-1 and NTLM, one file
//! or range files, padding lines with count 0) and plain lists: every known breached password is
//! refused through the library, the validator and the CLI; the measured false-positive rate is
//! within its bound; damage gives a clear error and the fail mode; an update while readers check
//! gives no torn read; an interrupted build resumes; the in-place lookup agrees with xorf's.

#![allow(clippy::unwrap_used, clippy::panic, reason = "test setup fails loudly")]

use policyc::{CompileOptions, Context, Validator, compile_str};
use policyc_runtime::store::build::{BuildOptions, Quiet, build, reference_lookup};
use policyc_runtime::store::{HashMode, Lookup, Store, StoreAccess, StoreHandle, StoreKey};
use proptest::prelude::*;
use sha1::Digest as _;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Passwords every generated data set holds.
const BREACHED: [&str; 8] = [
    "password",
    "123456",
    "Summer2024!",
    "P@ssw0rd",
    "letmein",
    "Tr0ub4dor&3",
    "correct horse battery staple",
    "пароль-Ümlaut-密码",
];

/// Strong passwords no data set holds.
const CLEAN: [&str; 4] = ["xK9#mQ2$vL7p-unbreached", "C0ntos0-Bl@nkf9!-zz", "ñandú-7-Quokka", "q"];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

fn full_hash(mode: HashMode, password: &str) -> String {
    match mode {
        HashMode::Sha1 => hex(&sha1::Sha1::digest(password.as_bytes())),
        HashMode::Ntlm => hex(&policyc_runtime::store::nt_hash(password)[..]),
    }
}

/// splitmix64: deterministic random hashes.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn hash(&mut self, mode: HashMode) -> String {
        let mut s = format!("{:016X}{:016X}{:016X}", self.next(), self.next(), self.next());
        s.truncate(mode.hex_len());
        s
    }
}

/// HIBP downloader output in one file: sorted `HASH:COUNT` lines, CRLF, with `random` random
/// hashes, the breached passwords, and padding lines (count 0) that must be left out.
fn hibp_file(dir: &Path, mode: HashMode, random: usize, seed: u64) -> (PathBuf, Vec<String>) {
    let mut rng = Rng(seed);
    let mut lines: Vec<String> = (0..random)
        .map(|_| {
            let count = rng.next() % 40 + 1;
            format!("{}:{count}", rng.hash(mode))
        })
        .collect();
    lines.extend(BREACHED.iter().map(|p| format!("{}:{}", full_hash(mode, p), 1000)));
    let padding: Vec<String> = (0..50).map(|_| format!("{}:0", rng.hash(mode))).collect();
    lines.extend(padding.iter().cloned());
    lines.sort();
    let path = dir.join(format!("pwned-{}-{seed}.txt", mode.name()));
    std::fs::write(&path, lines.join("\r\n") + "\r\n").unwrap();
    (path, padding.iter().map(|l| l.split(':').next().unwrap().to_string()).collect())
}

/// The same data as range files `PPPPP.txt` of `SUFFIX:COUNT` lines (the downloader's
/// `-s false` output), in a directory.
fn range_files(dir: &Path, mode: HashMode, random: usize, seed: u64) -> PathBuf {
    let (file, _) = hibp_file(dir, mode, random, seed);
    let ranges = dir.join(format!("ranges-{}-{seed}", mode.name()));
    std::fs::create_dir_all(&ranges).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut by_prefix: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        by_prefix.entry(line[..5].to_string()).or_default().push(line[5..].to_string());
    }
    for (prefix, lines) in by_prefix {
        std::fs::write(ranges.join(format!("{prefix}.txt")), lines.join("\r\n")).unwrap();
    }
    ranges
}

fn options(store: &Path, inputs: Vec<PathBuf>, shard_bits: u8) -> BuildOptions {
    let mut o = BuildOptions::new(store, inputs);
    o.shard_bits = Some(shard_bits);
    o.threads = 2;
    o
}

fn policy_with(store: &Path) -> Validator {
    let source = format!(
        "policy p {{\n  store pwned = \"{}\"\n  rule length \"Use 8 or more characters.\" : length >= 1\n  \
         rule breached \"This password appeared in a data breach.\" : not in pwned\n}}\n",
        store.display()
    );
    let path = store.parent().unwrap().join("p.policy");
    let compiled = compile_str(path, &source, &CompileOptions::default()).unwrap();
    Validator::from_bytes(&compiled.artifact).unwrap()
}

#[test]
fn every_breached_password_is_found_in_every_format_and_no_clean_one() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [HashMode::Sha1, HashMode::Ntlm] {
        for exact in [false, true] {
            let (file, padding) = hibp_file(dir.path(), mode, 20_000, 7);
            let ranges = range_files(dir.path(), mode, 5_000, 8);
            let plain = dir.path().join("plain.txt");
            std::fs::write(&plain, "only-in-the-plain-list-1\r\nonly-in-the-plain-list-2\n")
                .unwrap();
            let store = dir.path().join(format!("store-{}-{exact}", mode.name()));
            let mut o = options(&store, vec![file, ranges, plain], 5);
            o.exact = exact;
            let report = build(&o, &Quiet).unwrap();
            assert_eq!(report.info.mode, mode);
            assert_eq!(report.below_min_count, 100, "padding lines (count 0) are left out");
            let s = Store::open(&store).unwrap();
            let resident = Store::open_with(&store, StoreAccess::Resident).unwrap();
            let want = if exact { Lookup::Confirmed } else { Lookup::Probable };
            for p in
                BREACHED.iter().chain(&["only-in-the-plain-list-1", "only-in-the-plain-list-2"])
            {
                assert_eq!(s.lookup(p).unwrap(), want, "{mode:?} exact={exact}: {p}");
                assert_eq!(resident.lookup(p).unwrap(), want, "{mode:?} exact={exact}: {p}");
                assert_eq!(reference_lookup(&store, p).unwrap(), want);
            }
            for p in CLEAN {
                assert_eq!(s.lookup(p).unwrap(), Lookup::Absent, "{p}");
                assert_eq!(resident.lookup(p).unwrap(), Lookup::Absent, "{p}");
            }
            if exact {
                // Padding hashes are not in the exact tier: never confirmed.
                for h in padding.iter().take(20) {
                    let key = StoreKey(u64::from_str_radix(&h[..16], 16).unwrap());
                    assert_eq!(s.lookup_key(key).unwrap(), Lookup::Absent);
                }
            }
            for v in
                [policy_with(&store), policy_with(&store).with_store_access(StoreAccess::Resident)]
            {
                for p in BREACHED {
                    let verdict = v.check(p, &Context::new());
                    assert_eq!(verdict.violations().len(), 1, "{p}");
                    assert_eq!(verdict.violations()[0].rule(), "breached");
                    assert!(verdict.unavailable().is_empty());
                    assert!(!v.complies(p, &Context::new()));
                }
                for p in CLEAN {
                    assert!(v.check(p, &Context::new()).is_compliant(), "{p}");
                    assert!(v.complies(p, &Context::new()));
                }
            }
        }
    }
}

/// The measured false-positive rate over a million random non-members, against 2^-bits.
#[test]
fn false_positives_are_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = hibp_file(dir.path(), HashMode::Ntlm, 200_000, 11);
    for (bits, probes, bound) in [(16u8, 2_000_000u64, 3.0 / 65_536.0), (8, 200_000, 1.25 / 256.0)]
    {
        let store = dir.path().join(format!("fp{bits}"));
        let mut o = options(&store, vec![file.clone()], 2);
        o.fingerprint_bits = bits;
        build(&o, &Quiet).unwrap();
        let s = Store::open(&store).unwrap();
        let mut rng = Rng(99);
        let hits = (0..probes)
            .filter(|_| s.lookup_key(StoreKey(rng.next())).unwrap().is_breached())
            .count();
        let rate = hits as f64 / probes as f64;
        eprintln!(
            "{bits}-bit fingerprints: {hits} false positives in {probes} probes ({rate:.2e})"
        );
        assert!(rate <= bound, "{bits}-bit: false-positive rate {rate} over {bound}");
        // With the exact tier, none.
        let exact = dir.path().join(format!("exact{bits}"));
        let mut o = options(&exact, vec![file.clone()], 2);
        o.fingerprint_bits = bits;
        o.exact = true;
        build(&o, &Quiet).unwrap();
        let s = Store::open(&exact).unwrap();
        let mut rng = Rng(99);
        assert_eq!(
            (0..probes / 10)
                .filter(|_| s.lookup_key(StoreKey(rng.next())).unwrap().is_breached())
                .count(),
            0
        );
    }
}

fn built_store(dir: &Path, name: &str) -> PathBuf {
    let (file, _) = hibp_file(dir, HashMode::Ntlm, 30_000, 21);
    let store = dir.join(name);
    build(&options(&store, vec![file], 3), &Quiet).unwrap();
    store
}

/// The shard file holding a password's key.
fn shard_of(store: &Path, password: &str) -> PathBuf {
    let s = Store::open(store).unwrap();
    let i = HashMode::Ntlm.key(password).shard(s.info().shard_bits);
    policyc_runtime::store::shard_path(store, i, s.entries()[i].generation)
}

#[test]
fn a_damaged_store_gives_a_clear_error_and_the_check_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    // Truncated shard.
    let store = built_store(dir.path(), "truncated");
    let shard = shard_of(&store, "password");
    let len = std::fs::metadata(&shard).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&shard).unwrap().set_len(len - 100).unwrap();
    let err = Store::open(&store).unwrap().lookup("password").unwrap_err().to_string();
    assert!(
        err.contains("damaged")
            && err.contains("truncated")
            && err.contains(&*shard.to_string_lossy()),
        "{err}"
    );
    let v = policy_with(&store);
    let verdict = v.check("password", &Context::new());
    assert!(!verdict.is_compliant(), "a store that cannot be read refuses (fail closed)");
    assert!(verdict.refused_only_as_unavailable());
    assert_eq!(verdict.unavailable()[0].rule, "breached");
    assert!(verdict.unavailable()[0].reason.contains("truncated"));
    assert_eq!(verdict.violations()[0].message(), policyc_runtime::runtime::UNAVAILABLE_MESSAGE);
    // Other shards still answer.
    let other = (0..).map(|i| format!("clean-{i}")).find(|p| shard_of(&store, p) != shard).unwrap();
    assert!(v.check(&other, &Context::new()).is_compliant());

    // A flipped byte in every data block of a shard: found on first touch, and by verify.
    let store = built_store(dir.path(), "corrupt");
    let shard = shard_of(&store, "password");
    let mut bytes = std::fs::read(&shard).unwrap();
    for at in (4096..bytes.len()).step_by(4096) {
        bytes[at] ^= 0x40;
    }
    std::fs::write(&shard, &bytes).unwrap();
    let err = Store::open(&store).unwrap().lookup("password").unwrap_err().to_string();
    assert!(err.contains("does not match its checksum"), "{err}");
    let out = policyc_cmd(&["store", "verify", store.to_str().unwrap()], b"");
    assert_eq!(out.0, Some(2), "{}", out.2);
    assert!(out.2.contains("does not match its checksum"), "{}", out.2);

    // A damaged manifest: the store does not open.
    let store = built_store(dir.path(), "manifest");
    let manifest = store.join("manifest");
    let mut bytes = std::fs::read(&manifest).unwrap();
    bytes[70] ^= 1;
    std::fs::write(&manifest, &bytes).unwrap();
    let err = Store::open(&store).unwrap_err().to_string();
    assert!(err.contains("SHA-256 does not match"), "{err}");

    // A shard from another build: refused, not read.
    let a = built_store(dir.path(), "a");
    let (file, _) = hibp_file(dir.path(), HashMode::Ntlm, 30_000, 22);
    let b = dir.path().join("b");
    build(&options(&b, vec![file], 3), &Quiet).unwrap();
    let from_b = shard_of(&b, "password");
    std::fs::copy(&from_b, shard_of(&a, "password")).unwrap();
    let err = Store::open(&a).unwrap().lookup("password").unwrap_err().to_string();
    assert!(err.contains("not the shard the manifest names"), "{err}");

    // A missing store.
    let v = policy_with(&dir.path().join("nowhere"));
    let verdict = v.check("password", &Context::new());
    assert!(!verdict.is_compliant());
    assert!(verdict.unavailable()[0].reason.contains("cannot read"), "{:?}", verdict.unavailable());
}

/// Runs the policyc binary: (exit code, stdout, stderr).
fn policyc_cmd(args: &[&str], stdin: &[u8]) -> (Option<i32>, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_builds_inspects_and_checks_against_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = hibp_file(dir.path(), HashMode::Sha1, 10_000, 31);
    let store = dir.path().join("store");
    let s = store.to_str().unwrap();
    let out = policyc_cmd(
        &["store", "build", "--from", file.to_str().unwrap(), "-o", s, "--shard-bits", "4"],
        b"",
    );
    assert_eq!(out.0, Some(0), "{}", out.2);
    assert!(out.2.contains("10008 sha1 hashes in 16 shards"), "{}", out.2);
    let again = policyc_cmd(&["store", "build", "--from", file.to_str().unwrap(), "-o", s], b"");
    assert_eq!(again.0, Some(2));
    assert!(again.2.contains("already holds a store; use `policyc store update"), "{}", again.2);
    let info = policyc_cmd(&["store", "info", s], b"");
    assert!(info.1.contains("hashes:       10008 (sha1)"), "{}", info.1);
    let json = policyc_cmd(&["store", "info", s, "--format", "json"], b"");
    assert_eq!(json.0, Some(0), "{}", json.2);
    let json: serde_json::Value = serde_json::from_str(&json.1).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!((json["hashes"].as_u64(), json["mode"].as_str()), (Some(10008), Some("sha1")));
    assert_eq!(json["shards"], 16);
    let verify = policyc_cmd(&["store", "verify", s], b"");
    assert_eq!(verify.0, Some(0), "{}", verify.2);
    let lookup = policyc_cmd(&["store", "lookup", s], b"password\nxK9#mQ2$vL7p-unbreached\n");
    assert_eq!(lookup.0, Some(1));
    assert_eq!(lookup.1, "line 1: found\nline 2: not found\n");

    std::fs::write(
        dir.path().join("p.policy"),
        "policy p {\n  store pwned = \"store\"\n  rule breached \"This password appeared in a data breach.\" : not in pwned\n}\n",
    )
    .unwrap();
    let artifact = dir.path().join("p.policyc");
    let c = policyc_cmd(
        &[
            "compile",
            dir.path().join("p.policy").to_str().unwrap(),
            "-o",
            artifact.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(c.0, Some(0), "{}", c.2);
    let check =
        policyc_cmd(&["check", artifact.to_str().unwrap()], b"password\nxK9#mQ2$vL7p-unbreached\n");
    assert_eq!(check.0, Some(1), "{}", check.2);
    assert!(
        check.1.contains("line 1: noncompliant") && check.1.contains("breached"),
        "{}",
        check.1
    );
    assert!(check.1.contains("line 2: compliant"), "{}", check.1);
    let explain = policyc_cmd(&["explain", artifact.to_str().unwrap()], b"password\n");
    assert!(explain.1.contains("in the breached-password store `pwned`"), "{}", explain.1);
    // Without its store, `check` says why, once, and exits 2: an error, not a verdict.
    std::fs::rename(&store, dir.path().join("moved")).unwrap();
    let check =
        policyc_cmd(&["check", artifact.to_str().unwrap()], b"xK9#mQ2$vL7p-unbreached\nother-1\n");
    assert_eq!(check.0, Some(2), "{}", check.2);
    assert_eq!(check.2.matches("could not be checked").count(), 1, "{}", check.2);
    assert!(
        check.2.contains("rule `breached`: cannot read") && check.2.contains("manifest"),
        "{}",
        check.2
    );
    assert!(
        check.1.contains("line 1: noncompliant") && check.1.contains("line 2: noncompliant"),
        "{}",
        check.1
    );

    // Input errors name the file and line.
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, format!("{}:3\nnot a hash line\n", full_hash(HashMode::Sha1, "x")))
        .unwrap();
    let out = policyc_cmd(
        &[
            "store",
            "build",
            "--from",
            bad.to_str().unwrap(),
            "-o",
            dir.path().join("bad").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.0, Some(2));
    assert!(out.2.contains("bad.txt:2: expected HASH:COUNT"), "{}", out.2);
    // Mixed hash modes are refused.
    let (ntlm, _) = hibp_file(dir.path(), HashMode::Ntlm, 10, 32);
    let out = policyc_cmd(
        &[
            "store",
            "build",
            "--from",
            file.to_str().unwrap(),
            ntlm.to_str().unwrap(),
            "-o",
            dir.path().join("mixed").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.0, Some(2));
    assert!(out.2.contains("holds ntlm hashes, but the store is sha1"), "{}", out.2);
}

#[test]
fn an_update_replaces_only_changed_shards_and_readers_never_see_a_torn_store() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = hibp_file(dir.path(), HashMode::Ntlm, 40_000, 41);
    let extra = dir.path().join("extra.txt");
    std::fs::write(&extra, "added-by-the-update-1\n").unwrap();
    let store = dir.path().join("store");
    build(&options(&store, vec![a.clone()], 4), &Quiet).unwrap();
    let report = build(&options(&store, vec![a.clone(), extra.clone()], 4), &Quiet).unwrap();
    assert_eq!(
        (report.written, report.kept),
        (1, 15),
        "only the shard of the new hash is rewritten"
    );
    assert_eq!(report.info.generation, 2);
    assert_eq!(report.left_behind, 0, "the replaced shard file is removed");
    assert!(Store::open(&store).unwrap().lookup("added-by-the-update-1").unwrap().is_breached());
    let files = std::fs::read_dir(store.join("shards")).unwrap().count();
    assert_eq!(files, 16, "the replaced shard file is removed");

    // Readers check every breached password in a loop while updates alternate the data set.
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let handle = StoreHandle::new(&store);
                    let mut checks = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let fresh = Store::open(&store).unwrap();
                        for p in BREACHED {
                            assert!(handle.lookup(p).unwrap().is_breached(), "{p}");
                            assert!(fresh.lookup(p).unwrap().is_breached(), "{p}");
                        }
                        checks += 1;
                    }
                    checks
                })
            })
            .collect();
        for i in 0..6 {
            let inputs = if i % 2 == 0 { vec![a.clone()] } else { vec![a.clone(), extra.clone()] };
            build(&options(&store, inputs, 4), &Quiet).unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
    });
}

#[test]
fn a_killed_build_resumes_and_gives_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let ranges = range_files(dir.path(), HashMode::Sha1, 60_000, 51);
    let clean = dir.path().join("clean");
    build(&options(&clean, vec![ranges.clone()], 6), &Quiet).unwrap();

    let store = dir.path().join("resumed");
    let args = [
        "store",
        "build",
        "--from",
        ranges.to_str().unwrap(),
        "-o",
        store.to_str().unwrap(),
        "--shard-bits",
        "6",
        "--threads",
        "1",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = store.join(".build").join("checkpoint");
    let start = std::time::Instant::now();
    while !checkpoint.exists() && start.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!store.join("manifest").exists(), "killed before it finished");
    let out = policyc_cmd(&args, b"");
    assert_eq!(out.0, Some(0), "{}", out.2);
    assert!(out.2.contains("(resumed)"), "{}", out.2);
    assert!(!store.join(".build").exists());
    assert_eq!(
        std::fs::read(clean.join("manifest")).unwrap(),
        std::fs::read(store.join("manifest")).unwrap()
    );
    let a = Store::open(&clean).unwrap();
    for (i, e) in a.entries().iter().enumerate() {
        let x = std::fs::read(policyc_runtime::store::shard_path(&clean, i, e.generation)).unwrap();
        let y = std::fs::read(policyc_runtime::store::shard_path(&store, i, e.generation)).unwrap();
        assert!(x == y, "shard {i} differs");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any key set: every member is found (no false negatives), and the in-place lookup gives
    /// xorf's answer for members and random probes alike.
    #[test]
    fn lookups_agree_with_xorf_and_never_miss_a_member(
        passwords in proptest::collection::vec("[a-zA-Z0-9!@#]{1,12}", 1..300),
        probes in proptest::collection::vec("[a-z0-9]{1,10}", 1..100),
        bits in prop_oneof![Just(8u8), Just(16u8)],
        shard_bits in 0u8..4,
        exact in any::<bool>(),
        access in prop_oneof![Just(StoreAccess::Sparse), Just(StoreAccess::Resident)],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.txt");
        std::fs::write(&list, passwords.join("\n")).unwrap();
        let store = dir.path().join("store");
        let mut o = options(&store, vec![list], shard_bits);
        o.fingerprint_bits = bits;
        o.exact = exact;
        build(&o, &Quiet).unwrap();
        let s = Store::open_with(&store, access).unwrap();
        for p in passwords.iter().chain(probes.iter()) {
            let got = s.lookup(p).unwrap();
            prop_assert_eq!(got, reference_lookup(&store, p).unwrap());
            if passwords.contains(p) {
                prop_assert!(got.is_breached(), "member {} missed", p);
            }
        }
    }
}

/// What `store info` and `store verify` print, as a person reads it (golden).
#[test]
fn store_info_and_verify_read_well() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = hibp_file(dir.path(), HashMode::Ntlm, 2_000, 61);
    let store = dir.path().join("store");
    let s = store.to_str().unwrap();
    let build = policyc_cmd(
        &[
            "store",
            "build",
            "--from",
            file.to_str().unwrap(),
            "-o",
            s,
            "--shard-bits",
            "2",
            "--exact",
        ],
        b"",
    );
    let info = policyc_cmd(&["store", "info", s], b"");
    let verify = policyc_cmd(&["store", "verify", s], b"");
    let all = format!(
        "$ policyc store build\n{}\n$ policyc store info\n{}\n$ policyc store verify\n{}",
        build.2, info.1, verify.2
    )
    .replace(&dir.path().display().to_string(), "[DIR]");
    insta::assert_snapshot!("store_build_info_verify", all);
}

/// Issue 25 finding 8: the manifest's source text (the list files' names) was printed raw by
/// `store info`: a file name with escape codes and a line break forged a "store OK" line.
#[test]
fn store_info_escapes_what_the_manifest_says() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list\u{1b}[2J\nstore OK.txt");
    std::fs::write(&list, "Password1\nletmein\n").unwrap();
    let store = dir.path().join("store");
    let build = policyc_cmd(
        &["store", "build", "--from", list.to_str().unwrap(), "-o", store.to_str().unwrap()],
        b"",
    );
    assert_eq!(build.0, Some(0), "{}", build.2);
    let info = policyc_cmd(&["store", "info", store.to_str().unwrap()], b"");
    assert_eq!(info.0, Some(0), "{}", info.2);
    assert!(!info.1.contains('\u{1b}'), "an escape code reached the terminal: {:?}", info.1);
    assert!(!info.1.lines().any(|l| l.starts_with("store OK")), "a forged line: {}", info.1);
    assert!(info.1.contains("\\u{1b}[2J\\nstore OK.txt"), "{}", info.1);
}
