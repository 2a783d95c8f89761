//! The Debian packages: `packaging/build-deb --profile dev` builds them (into the target
//! directory's `debian/`), then they are unpacked into a scratch root (`dpkg-deb -x` and `-e`) and
//! checked: files, owners and modes, conffiles, maintainer scripts, dependencies, that the
//! kiosk's binary carries no embedded central service, which paths the units may write,
//! `systemd-analyze verify` on both units, and their `systemd-analyze security --offline=true`
//! exposure (at most 4.0 for the kiosk, 2.5 for the central; the numbers are printed and the
//! reports written to `debian/security-exposure.txt` in the target directory). As root (CI), dpkg
//! then installs, upgrades, removes and purges both packages on a copy-on-write view of the
//! machine (`tests/packaging/install-cycle`).
//!
//! Needs dpkg-deb and systemd-analyze (Debian packages dpkg and systemd; scripts/test installs
//! them). The build takes a few minutes on a warm target directory; the tests of this file share
//! one build.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

const KIOSK: &str = "ssm-kiosk";
const CENTRAL: &str = "ssm-central";
/// The highest `systemd-analyze security` exposure each unit may have.
const KIOSK_EXPOSURE_MAX: f64 = 4.0;
const CENTRAL_EXPOSURE_MAX: f64 = 2.5;

/// The built packages, unpacked.
struct Packages {
    /// Both packages' files, extracted into one scratch root.
    root: PathBuf,
    /// Each package's control area (`dpkg-deb -e`).
    control: BTreeMap<&'static str, PathBuf>,
    /// Each package's file list: path -> (mode string, owner/group), from `dpkg-deb -c`.
    listing: BTreeMap<&'static str, BTreeMap<String, (String, String)>>,
    /// Keeps the scratch directory.
    _scratch: tempfile::TempDir,
}

/// The target directory the tests were built in (`<target>/debug/kiosk` is this test's binary).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_kiosk"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_owned()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(command: &mut Command) -> Output {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    assert!(
        output.status.success(),
        "{shown} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A line on standard error that the test harness does not capture: numbers for the record.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "packaging: {line}");
}

fn need(tool: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is needed: install the Debian package {package} (scripts/test does)"
    );
}

/// Builds the packages once for every test of this file.
fn packages() -> &'static Packages {
    static PACKAGES: OnceLock<Packages> = OnceLock::new();
    PACKAGES.get_or_init(build)
}

fn build() -> Packages {
    need("dpkg-deb", "dpkg");
    let target = target_dir();
    let bin_dir = target.join("debug");
    // build-deb's cargo run re-links target/debug/{kiosk,central} to the package build (the
    // kiosk without its default feature); keep the test build's binaries (hard links: their
    // content stays where cargo keeps it) and put them back afterwards, for the tests after
    // this one.
    let saved = tempfile::tempdir_in(&target).unwrap();
    let kept: Vec<(PathBuf, PathBuf)> = ["kiosk", "central"]
        .into_iter()
        .filter_map(|name| {
            let original = bin_dir.join(name);
            let copy = saved.path().join(name);
            std::fs::hard_link(&original, &copy)
                .ok()
                .map(|()| (original, copy))
        })
        .collect();

    let started = Instant::now();
    let cargo = std::env::var("CARGO")
        .ok()
        .or_else(|| option_env!("CARGO").map(str::to_owned))
        .unwrap_or_else(|| "cargo".to_owned());
    let result = Command::new(repo().join("packaging/build-deb"))
        .args(["--profile", "dev"])
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO", cargo)
        .current_dir(repo())
        .output();
    for (original, copy) in &kept {
        std::fs::rename(copy, original).unwrap();
    }
    let output = result.unwrap();
    assert!(
        output.status.success(),
        "build-deb failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    say(&format!(
        "build-deb --profile dev took {:.0} s",
        started.elapsed().as_secs_f64()
    ));

    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let mut control = BTreeMap::new();
    let mut listing = BTreeMap::new();
    for package in [KIOSK, CENTRAL] {
        let deb = deb_of(package);
        run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
        let area = scratch.path().join(format!("{package}.DEBIAN"));
        run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&area));
        control.insert(package, area);
        let contents = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
        listing.insert(
            package,
            parse_listing(&String::from_utf8_lossy(&contents.stdout)),
        );
    }
    Packages {
        root,
        control,
        listing,
        _scratch: scratch,
    }
}

/// `dpkg-deb -c` lines: `-rwxr-xr-x root/root 123 2026-01-01 00:00 ./usr/bin/kiosk`.
fn parse_listing(text: &str) -> BTreeMap<String, (String, String)> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (mode, owner, path) = (fields.first()?, fields.get(1)?, fields.get(5)?);
            let path = path.trim_start_matches('.').trim_end_matches('/');
            let path = if path.is_empty() { "/" } else { path };
            Some((path.to_owned(), ((*mode).to_owned(), (*owner).to_owned())))
        })
        .collect()
}

fn mode_of(package: &'static str, path: &str) -> String {
    let (mode, owner) = packages().listing[package]
        .get(path)
        .unwrap_or_else(|| panic!("{package} does not ship {path}"))
        .clone();
    assert_eq!(owner, "root/root", "{path} in {package}");
    mode
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn control_field(package: &'static str, field: &str) -> String {
    let text = read(&packages().control[package].join("control"));
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}: ")))
        .unwrap_or_else(|| panic!("{package} has no {field}"))
        .to_owned()
}

#[test]
fn the_kiosk_package_holds_its_files_with_the_right_modes() {
    let p = packages();
    assert_eq!(mode_of(KIOSK, "/usr/bin/kiosk"), "-rwxr-xr-x");
    for file in [
        "/usr/lib/systemd/system/ssm-kiosk.service",
        "/usr/lib/udev/rules.d/70-ssm-kiosk.rules",
        "/usr/lib/sysusers.d/ssm-kiosk.conf",
        "/usr/lib/modules-load.d/ssm-kiosk.conf",
        "/etc/kiosk/kiosk.toml",
        "/etc/pam.d/ssm-kiosk",
        "/usr/share/ssm-kiosk/assets/fonts/NotoSansSC-Regular-subset.otf",
        "/usr/share/ssm-kiosk/assets/fonts/OFL.txt",
        "/usr/share/doc/ssm-kiosk/copyright",
    ] {
        assert_eq!(mode_of(KIOSK, file), "-rw-r--r--", "{file}");
    }
    // Every entry is owned by root; nothing is writable by anyone else, nothing is setuid.
    for (path, (mode, owner)) in &p.listing[KIOSK] {
        assert_eq!(owner, "root/root", "{path}");
        assert!(
            !mode[5..].contains('w'),
            "{path} is group/world-writable: {mode}"
        );
        assert!(!mode.contains('s'), "{path} is setuid/setgid: {mode}");
    }

    let rules = read(&p.root.join("usr/lib/udev/rules.d/70-ssm-kiosk.rules"));
    for device in ["ttyACM", "ttyUSB", "usbmisc"] {
        assert!(
            rules.lines().any(|l| !l.starts_with('#')
                && l.contains(device)
                && l.contains("GROUP=\"ssm-kiosk\"")),
            "no udev rule gives {device} to ssm-kiosk:\n{rules}"
        );
    }
    let sysusers = read(&p.root.join("usr/lib/sysusers.d/ssm-kiosk.conf"));
    assert!(sysusers.contains("u ssm-kiosk "), "{sysusers}");
    // The scanner's and printer's drivers load at boot, before the unit computes its device
    // allow-list (which leaves out device classes whose driver is not loaded yet).
    let modules = read(&p.root.join("usr/lib/modules-load.d/ssm-kiosk.conf"));
    let listed: Vec<&str> = modules
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(listed, ["cdc_acm", "usbserial", "usblp"], "{modules}");
    let unit = read(&p.root.join("usr/lib/systemd/system/ssm-kiosk.service"));
    assert!(
        unit.lines()
            .any(|l| l.starts_with("After=") && l.contains("systemd-modules-load.service")),
        "ssm-kiosk.service is not ordered after systemd-modules-load.service"
    );

    let depends = control_field(KIOSK, "Depends");
    for dependency in ["pcscd", "cage", "libpam-systemd", "libc6"] {
        assert!(depends.contains(dependency), "Depends: {depends}");
    }
}

#[test]
fn the_kiosk_binary_carries_no_embedded_central_and_reads_the_template() {
    let p = packages();
    let kiosk = p.root.join("usr/bin/kiosk");
    let version = run(Command::new(&kiosk).arg("--version"));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("kiosk "));

    // The production template parses (the rest fails here: no certificates, no devices).
    let template = p.root.join("etc/kiosk/kiosk.toml");
    let output = Command::new(&kiosk)
        .args(["check-config", "--timeout", "1"])
        .arg(&template)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("ok      config:"), "{stdout}");
    let text = read(&template);
    for expected in [
        "backend = \"pcsc\"",
        "backend = \"serial\"",
        "backend = \"escpos\"",
        "ca = \"/etc/kiosk/ca.pem\"",
        "cert = \"/etc/kiosk/kiosk.pem\"",
        "key = \"/etc/kiosk/kiosk.key\"",
        "data_dir = \"/var/lib/kiosk\"",
    ] {
        assert!(text.contains(expected), "the template lacks {expected}");
    }

    // The demo configuration asks for the embedded central service, which this build lacks.
    let demo = Command::new(&kiosk)
        .args(["check-config", "--timeout", "1"])
        .arg(repo().join("kiosk.toml"))
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&demo.stdout);
    assert!(!demo.status.success(), "{stdout}");
    assert!(
        stdout.contains("built without the embedded demo service"),
        "{stdout}"
    );
}

#[test]
fn the_central_package_holds_its_files_with_the_right_modes() {
    let p = packages();
    assert_eq!(mode_of(CENTRAL, "/usr/bin/central"), "-rwxr-xr-x");
    for file in [
        "/usr/lib/systemd/system/ssm-central.service",
        "/usr/lib/sysusers.d/ssm-central.conf",
        "/etc/default/ssm-central",
        "/usr/share/doc/ssm-central/copyright",
    ] {
        assert_eq!(mode_of(CENTRAL, file), "-rw-r--r--", "{file}");
    }
    for (path, (mode, owner)) in &p.listing[CENTRAL] {
        assert_eq!(owner, "root/root", "{path}");
        assert!(!mode[5..].contains('w'), "{path}: {mode}");
    }
    let help = run(Command::new(p.root.join("usr/bin/central")).arg("--help"));
    assert!(String::from_utf8_lossy(&help.stdout).contains("provision-kiosk"));
    assert!(control_field(CENTRAL, "Depends").contains("libc6"));
}

#[test]
fn configuration_files_are_conffiles_and_scripts_are_executable() {
    let p = packages();
    let conffiles = |package: &'static str| -> Vec<String> {
        read(&p.control[package].join("conffiles"))
            .lines()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        conffiles(KIOSK),
        ["/etc/kiosk/kiosk.toml", "/etc/pam.d/ssm-kiosk"]
    );
    assert_eq!(conffiles(CENTRAL), ["/etc/default/ssm-central"]);

    for package in [KIOSK, CENTRAL] {
        let area = &p.control[package];
        for script in ["postinst", "prerm", "postrm"] {
            let path = area.join(script);
            let meta = std::fs::metadata(&path).unwrap();
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                meta.permissions().mode() & 0o777,
                0o755,
                "{package} {script}"
            );
            run(Command::new("sh").arg("-n").arg(&path));
        }
    }
}

/// Runs a maintainer script with every command it may call replaced by a stub that records its
/// arguments (nothing on this machine changes); returns the commands, one per line. A command
/// without a stub fails the script (`set -e`), and so the test.
fn dry_run(package: &'static str, script: &str, args: &[&str]) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let stubs = dir.path().join("bin");
    std::fs::create_dir(&stubs).unwrap();
    for command in [
        "systemd-sysusers",
        "adduser",
        "getent",
        "chown",
        "chmod",
        "install",
        "udevadm",
        "systemctl",
        "deb-systemd-helper",
        "rm",
        "rmdir",
        "userdel",
        "groupdel",
    ] {
        let stub = stubs.join(command);
        std::fs::write(
            &stub,
            "#!/bin/sh\nprintf '%s %s\\n' \"${0##*/}\" \"$*\" >>\"$STUB_LOG\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let log = dir.path().join("log");
    std::fs::write(&log, "").unwrap();
    run(Command::new("/bin/sh")
        .arg(packages().control[package].join(script))
        .args(args)
        .env_clear()
        .env("PATH", &stubs)
        .env("STUB_LOG", &log));
    read(&log).lines().map(str::to_owned).collect()
}

#[test]
fn the_maintainer_scripts_keep_configuration_and_data_until_purge() {
    for (package, user, data) in [
        (KIOSK, "ssm-kiosk", "/var/lib/kiosk"),
        (CENTRAL, "ssm-central", "/var/lib/central"),
    ] {
        let has = |lines: &[String], wanted: &str| lines.iter().any(|l| l == wanted);
        // A first installation makes the user (sysusers) and the data directory.
        let install = dry_run(package, "postinst", &["configure"]);
        assert!(
            has(
                &install,
                &format!("systemd-sysusers /usr/lib/sysusers.d/{package}.conf")
            ),
            "{package}: {install:?}"
        );
        assert!(
            has(
                &install,
                &format!("install -d -o {user} -g {user} -m 0700 {data}")
            ),
            "{package}: {install:?}"
        );
        // An upgrade, a removal and the scripts around them never delete anything.
        for (script, args) in [
            ("postinst", &["configure", "0.0.9-1"][..]),
            ("prerm", &["upgrade", "0.2.0-1"][..]),
            ("postrm", &["upgrade", "0.2.0-1"][..]),
            ("prerm", &["remove"][..]),
            ("postrm", &["remove"][..]),
        ] {
            let lines = dry_run(package, script, args);
            for line in &lines {
                assert!(
                    !line.starts_with("rm ") && !line.starts_with("userdel"),
                    "{package} {script} {args:?} deletes: {line}"
                );
            }
        }
        // Purge deletes the data directory and the user.
        let purge = dry_run(package, "postrm", &["purge"]);
        assert!(
            has(&purge, &format!("rm -rf {data}")),
            "{package}: {purge:?}"
        );
        assert!(
            has(&purge, &format!("userdel {user}")),
            "{package}: {purge:?}"
        );
    }
    // The sysusers files that postinst hands to systemd-sysusers make both users.
    need("systemd-sysusers", "systemd");
    let sysusers = run(Command::new("systemd-sysusers")
        .arg(format!("--root={}", packages().root.display()))
        .arg("--dry-run"));
    let said = String::from_utf8_lossy(&sysusers.stdout).into_owned()
        + &String::from_utf8_lossy(&sysusers.stderr);
    for user in ["ssm-kiosk", "ssm-central"] {
        assert!(said.contains(&format!("Creating user '{user}'")), "{said}");
    }
    // The kiosk's purge also deletes the certificates copied next to its configuration.
    let purge = dry_run(KIOSK, "postrm", &["purge"]);
    assert!(
        purge
            .iter()
            .any(|l| l.starts_with("rm -f ") && l.contains("/etc/kiosk/kiosk.key")),
        "{purge:?}"
    );
}

/// The scratch root with what `systemd-analyze` needs besides the packages: the host's own
/// units (targets, pcscd.socket, getty@.service, which the units order themselves against) and a
/// stand-in for cage, which the kiosk's package depends on rather than ships.
fn analysis_root() -> &'static Path {
    static READY: OnceLock<()> = OnceLock::new();
    let root = &packages().root;
    READY.get_or_init(|| {
        need("systemd-analyze", "systemd");
        let host_units = root.join("lib/systemd/system");
        std::fs::create_dir_all(&host_units).unwrap();
        run(Command::new("cp")
            .arg("-rT")
            .arg("/lib/systemd/system")
            .arg(&host_units));
        let cage = root.join("usr/bin/cage");
        if !cage.exists() {
            std::fs::write(&cage, "#!/bin/sh\nexec \"$@\"\n").unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&cage, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    });
    root
}

#[test]
fn the_units_pass_systemd_analyze_verify() {
    let root = analysis_root();
    for unit in ["ssm-kiosk.service", "ssm-central.service"] {
        let output = Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", root.display()))
            .arg(unit)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stderr.trim().is_empty(),
            "systemd-analyze verify {unit}: {}\n{stderr}",
            output.status
        );
    }
}

/// The settings of a unit that make a path writable, as `key=value` lines.
fn writable_settings(unit_text: &str) -> Vec<String> {
    const WRITABLE: [&str; 7] = [
        "ReadWritePaths=",
        "ReadWriteDirectories=",
        "StateDirectory=",
        "CacheDirectory=",
        "LogsDirectory=",
        "RuntimeDirectory=",
        "ConfigurationDirectory=",
    ];
    unit_text
        .lines()
        .map(str::trim)
        .filter(|l| WRITABLE.iter().any(|key| l.starts_with(key)))
        .map(str::to_owned)
        .collect()
}

#[test]
fn only_the_data_directory_is_writable() {
    let p = packages();
    let kiosk = read(&p.root.join("usr/lib/systemd/system/ssm-kiosk.service"));
    // The data directory, and /run/user for the seat session's runtime directory (cage's Wayland
    // socket), which logind makes there with mode 0700.
    assert_eq!(
        writable_settings(&kiosk),
        ["StateDirectory=kiosk", "ReadWritePaths=-/run/user"]
    );
    assert!(kiosk.lines().any(|l| l == "ProtectSystem=strict"));
    assert!(kiosk.lines().any(|l| l == "ProtectHome=yes"));
    let central = read(&p.root.join("usr/lib/systemd/system/ssm-central.service"));
    assert_eq!(writable_settings(&central), ["StateDirectory=central"]);
    assert!(central.lines().any(|l| l == "ProtectSystem=strict"));
}

/// The overall exposure `systemd-analyze security --offline=true` gives a unit, and the whole
/// report.
fn exposure(unit: &str) -> (f64, String) {
    let root = analysis_root();
    let output = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(format!("--root={}", root.display()))
        .arg(unit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| {
            panic!(
                "no exposure for {unit}:\n{text}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let number = line
        .rsplit(':')
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    let level = number.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"));
    (level, text.into_owned())
}

#[test]
fn the_units_are_hardened() {
    let (kiosk, kiosk_report) = exposure("ssm-kiosk.service");
    let (central, central_report) = exposure("ssm-central.service");
    // The numbers, for the record: on standard error, and the whole reports next to the packages.
    let record = target_dir().join("debian/security-exposure.txt");
    let version = run(Command::new("systemd-analyze").arg("--version"));
    let version = String::from_utf8_lossy(&version.stdout);
    std::fs::write(
        &record,
        format!(
            "{}\n\n# ssm-kiosk.service\n{kiosk_report}\n# ssm-central.service\n{central_report}",
            version.lines().next().unwrap_or_default()
        ),
    )
    .unwrap();
    say(&format!("the reports are in {}", record.display()));
    say(&format!(
        "systemd-analyze security exposure: ssm-kiosk.service {kiosk:.1} (at most \
         {KIOSK_EXPOSURE_MAX:.1}), ssm-central.service {central:.1} (at most \
         {CENTRAL_EXPOSURE_MAX:.1})"
    ));
    assert!(kiosk <= KIOSK_EXPOSURE_MAX, "ssm-kiosk.service: {kiosk}");
    assert!(
        central <= CENTRAL_EXPOSURE_MAX,
        "ssm-central.service: {central}"
    );

    // What the brief asks of each unit, beyond the score.
    let p = packages();
    let kiosk_unit = read(&p.root.join("usr/lib/systemd/system/ssm-kiosk.service"));
    for line in [
        "User=ssm-kiosk",
        "Restart=always",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=kiosk",
        "PrivateTmp=yes",
        "DevicePolicy=closed",
        "DeviceAllow=char-ttyACM rw",
        "DeviceAllow=char-ttyUSB rw",
        "DeviceAllow=char-usb rw",
        "DeviceAllow=char-input rw",
        "DeviceAllow=char-drm rw",
        "CapabilityBoundingSet=",
        "TTYPath=/dev/tty1",
        "StandardError=journal",
    ] {
        assert!(
            kiosk_unit.lines().any(|l| l == line),
            "ssm-kiosk.service lacks {line}"
        );
    }
    assert!(kiosk_unit.contains("ExecStart=/usr/bin/cage "));
    assert!(kiosk_unit.contains("pcscd.socket"));
    let central_unit = read(&p.root.join("usr/lib/systemd/system/ssm-central.service"));
    for line in [
        "User=ssm-central",
        "StateDirectory=central",
        "CapabilityBoundingSet=",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
    ] {
        assert!(
            central_unit.lines().any(|l| l == line),
            "ssm-central.service lacks {line}"
        );
    }
    assert!(
        central_unit.contains("ExecStart=/usr/bin/central serve --data /var/lib/central --listen")
    );
    let defaults = read(&p.root.join("etc/default/ssm-central"));
    assert!(defaults.contains("LISTEN=0.0.0.0:8443"), "{defaults}");
}

/// The built `.deb` of a package.
fn deb_of(package: &str) -> PathBuf {
    let debs = target_dir().join("debian");
    std::fs::read_dir(&debs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{package}_")) && n.ends_with(".deb"))
        })
        .unwrap_or_else(|| panic!("no {package}_*.deb in {}", debs.display()))
}

#[test]
fn dpkg_upgrades_and_removal_keep_configuration_and_data_and_purge_deletes_them() {
    let _ = packages();
    // dpkg on a copy-on-write view of this machine needs root (mount namespaces, overlayfs).
    let uid = run(Command::new("id").arg("-u"));
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root: the dpkg cycle must run there"
        );
        say("skipped the dpkg install cycle: it needs root (CI runs it)");
        return;
    }
    need("unshare", "util-linux");
    // Root in a container may still lack the right to make mount namespaces and overlays.
    let probe = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        say("skipped the dpkg install cycle: this machine allows no private mount namespace");
        return;
    }
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "private"])
        .arg(repo().join("tests/packaging/install-cycle"))
        .arg(deb_of(KIOSK))
        .arg(deb_of(CENTRAL))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the dpkg cycle failed ({}):\n{said}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let passed: Vec<&str> = said
        .lines()
        .filter_map(|l| l.strip_prefix("ok: "))
        .collect();
    for (package, name, conffile) in [
        (KIOSK, "kiosk", "/etc/kiosk/kiosk.toml"),
        (CENTRAL, "central", "/etc/default/ssm-central"),
    ] {
        for check in [
            format!("{package}: installed"),
            format!("{package}: /var/lib/{name} belongs to {package}, mode 0700"),
            format!("{package}: upgraded"),
            format!("{package}: the upgrade keeps the edited {conffile}"),
            format!("{package}: the upgrade keeps /var/lib/{name}"),
            format!("{package}: removal keeps the edited {conffile}"),
            format!("{package}: removal keeps /var/lib/{name}"),
            format!("{package}: removal keeps the user"),
            format!("{package}: purge deletes {conffile}"),
            format!("{package}: purge deletes /var/lib/{name}"),
            format!("{package}: purge deletes the user and the group"),
        ] {
            assert!(
                passed.contains(&check.as_str()),
                "not checked: {check}\n{said}"
            );
        }
    }
    assert!(passed.contains(&"ssm-kiosk: /etc/kiosk is root:ssm-kiosk, mode 0750"));
}
