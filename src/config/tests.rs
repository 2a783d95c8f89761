use super::*;

/// A valid file; lines: 1 [kiosk], 2 id, 3 data_dir, 5 [central], 6 embedded,
/// 8 [devices.idcard], 9 backend, 11 [devices.scanner], 12 backend, 14 [devices.printer],
/// 15 backend, 16 profile.
const BASE: &str = r#"[kiosk]
id = "K001"
data_dir = "var/kiosk"

[central]
embedded = true

[devices.idcard]
backend = "simulated"

[devices.scanner]
backend = "simulated"

[devices.printer]
backend = "simulated"
profile = "generic-58"
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/kiosk/kiosk.toml"))
}

/// `BASE` with one piece of text replaced (which must be there).
fn base_with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} is not in BASE");
    BASE.replacen(from, to, 1)
}

/// The error of `text`, checked to be at `line`:`column` and to contain `words`.
#[track_caller]
fn error_at(text: &str, line: usize, column: usize, words: &str) -> ConfigError {
    let error = match Config::parse(text, Path::new("kiosk.toml")) {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(e) => e,
    };
    assert_eq!(
        (error.line, error.column),
        (line, column),
        "position of: {error}"
    );
    assert!(
        error.message.contains(words),
        "{words:?} not in the message: {error}"
    );
    assert_eq!(error.file, "kiosk.toml");
    error
}

// ---------------------------------------------------------------------------------------------
// Valid files
// ---------------------------------------------------------------------------------------------

#[test]
fn the_repository_kiosk_toml_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::load(&root.join("kiosk.toml")).unwrap();
    assert_eq!(config.kiosk.id, "K001");
    assert_eq!(config.kiosk.data_dir, root.join("var/kiosk"));
    assert_eq!(
        config.central,
        CentralSection::Embedded {
            data_dir: root.join("var/central")
        }
    );
    assert_eq!(
        config.devices,
        Devices {
            idcard: IdcardConfig::Simulated,
            scanner: ScannerConfig::Simulated,
            printer: PrinterConfig::Simulated {
                profile: "generic-58".into()
            },
        }
    );
    assert_eq!(config.sync, SyncSection::default());
}

#[test]
fn the_base_file_resolves_paths_against_its_directory() {
    let config = parse(BASE).unwrap();
    assert_eq!(config.kiosk.data_dir, Path::new("/etc/kiosk/var/kiosk"));
    assert_eq!(
        config.central,
        CentralSection::Embedded {
            data_dir: PathBuf::from("/etc/kiosk/var/central")
        }
    );
    assert_eq!(config.sync.heartbeat_seconds, 30);
    assert_eq!(config.sync.upload_seconds, 5);
    assert_eq!(config.sync.heartbeat_every(), Duration::from_secs(30));
    assert_eq!(config.sync.upload_every(), Duration::from_secs(5));
    assert_eq!(config.devices.printer.profile(), "generic-58");
}

#[test]
fn a_production_file_with_real_devices_and_a_remote_central() {
    let text = r#"
[kiosk]
id = "SH-PD_017"
data_dir = "/var/lib/kiosk"

[central]
urls = ["https://central-a.example:8443/", "https://central-b.example:8443/api"]
ca = "tls/ca.pem"
cert = "/etc/kiosk/tls/kiosk.pem"
key = "tls/kiosk.key"

[devices.idcard]
backend = "pcsc"
reader = "ACS ACR39U"

[devices.scanner]
backend = "serial"
port = "/dev/ttyACM0"
baud = 115200

[devices.printer]
backend = "escpos"
connection = "tcp://192.168.1.50:9100"
profile = "generic-80"

[sync]
heartbeat_seconds = 60
upload_seconds = 10
"#;
    let config = parse(text).unwrap();
    assert_eq!(
        config,
        Config {
            kiosk: KioskSection {
                id: "SH-PD_017".into(),
                data_dir: "/var/lib/kiosk".into(),
            },
            central: CentralSection::Remote {
                urls: vec![
                    "https://central-a.example:8443".into(),
                    "https://central-b.example:8443/api".into()
                ],
                ca: "/etc/kiosk/tls/ca.pem".into(),
                cert: "/etc/kiosk/tls/kiosk.pem".into(),
                key: "/etc/kiosk/tls/kiosk.key".into(),
            },
            devices: Devices {
                idcard: IdcardConfig::Pcsc {
                    reader: Some("ACS ACR39U".into())
                },
                scanner: ScannerConfig::Serial {
                    port: "/dev/ttyACM0".into(),
                    baud: 115_200
                },
                printer: PrinterConfig::EscPos {
                    connection: "tcp://192.168.1.50:9100".into(),
                    profile: "generic-80".into()
                },
            },
            sync: SyncSection {
                heartbeat_seconds: 60,
                upload_seconds: 10
            },
            staff: Vec::new(),
        }
    );
}

#[test]
fn optional_keys_take_their_defaults() {
    let text = base_with(
        "[devices.idcard]\nbackend = \"simulated\"\n\n[devices.scanner]\nbackend = \"simulated\"",
        "[devices.idcard]\nbackend = \"pcsc\"\n\n[devices.scanner]\nbackend = \"serial\"\nport = \"/dev/ttyUSB0\"",
    );
    let text = text.replacen("profile = \"generic-58\"\n", "", 1);
    let text = text.replacen(
        "embedded = true",
        "url = \"https://c.example\"\nca = \"ca.pem\"\ncert = \"k.pem\"\nkey = \"k.key\"",
        1,
    );
    let config = parse(&format!("{text}\n[sync]\n")).unwrap();
    assert_eq!(config.devices.idcard, IdcardConfig::Pcsc { reader: None });
    assert_eq!(
        config.devices.scanner,
        ScannerConfig::Serial {
            port: "/dev/ttyUSB0".into(),
            baud: 9600
        }
    );
    assert_eq!(
        config.devices.printer,
        PrinterConfig::Simulated {
            profile: "generic-58".into()
        }
    );
    assert!(matches!(
        config.central,
        CentralSection::Remote { ref urls, .. } if urls == &["https://c.example".to_owned()]
    ));
    assert_eq!(config.sync, SyncSection::default());
}

#[test]
fn an_embedded_central_may_name_its_data_dir() {
    let text = base_with(
        "embedded = true",
        "embedded = true\ndata_dir = \"../central-data\"",
    );
    let config = parse(&text).unwrap();
    assert_eq!(
        config.central,
        CentralSection::Embedded {
            data_dir: "/etc/kiosk/../central-data".into()
        }
    );
}

#[test]
fn every_printer_url_scheme_is_accepted() {
    for url in [
        "file:///dev/usb/lp0",
        "serial:///dev/ttyUSB0?baud=115200",
        "tcp://printer.local",
        "tcp://[fe80::1]:9100",
    ] {
        let text = base_with(
            "backend = \"simulated\"\nprofile",
            &format!("backend = \"escpos\"\nconnection = \"{url}\"\nprofile"),
        );
        let config = parse(&text).unwrap();
        assert_eq!(
            config.devices.printer,
            PrinterConfig::EscPos {
                connection: url.into(),
                profile: "generic-58".into()
            }
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Errors, with their positions
// ---------------------------------------------------------------------------------------------

#[test]
fn display_is_file_line_column_message() {
    let e = error_at(
        &base_with("\"generic-58\"", "\"generic-57\""),
        16,
        11,
        "unknown printer profile",
    );
    assert_eq!(
        e.to_string(),
        "kiosk.toml:16:11: unknown printer profile \"generic-57\" \
         (expected generic-58, generic-80 or raster-only-58)"
    );
}

#[test]
fn a_file_that_cannot_be_read_names_the_file() {
    let e = Config::load(Path::new("/nonexistent/kiosk.toml")).unwrap_err();
    assert_eq!((e.line, e.column), (0, 0));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/kiosk.toml: cannot read")
    );
}

#[test]
fn toml_syntax_errors() {
    error_at(
        &base_with("[devices.printer]", "[devices.printer"),
        14,
        17,
        "",
    );
    error_at(&base_with("id = \"K001\"", "id = \"K001"), 2, 11, "");
    error_at(
        &base_with("id = \"K001\"", "id = \"K001\"\nid = \"K002\""),
        3,
        1,
        "duplicate key",
    );
}

#[test]
fn unknown_keys_at_every_level() {
    error_at(
        &format!("colour = \"red\"\n{BASE}"),
        1,
        1,
        "unknown key \"colour\" (expected kiosk, central, devices, sync or staff)",
    );
    error_at(
        &base_with(
            "data_dir = \"var/kiosk\"",
            "data_dir = \"var/kiosk\"\n  name = \"x\"",
        ),
        4,
        3,
        "unknown key \"name\" (expected id or data_dir)",
    );
    error_at(
        &base_with("embedded = true", "embedded = true\nport = 1"),
        7,
        1,
        "unknown key \"port\"",
    );
    error_at(
        &base_with(
            "[devices.idcard]",
            "[devices.camera]\nbackend = \"x\"\n[devices.idcard]",
        ),
        8,
        10,
        "unknown key \"camera\" (expected idcard, scanner or printer)",
    );
    error_at(
        &base_with(
            "profile = \"generic-58\"",
            "profile = \"generic-58\"\ncut = \"full\"",
        ),
        17,
        1,
        "unknown key \"cut\" (expected backend, connection or profile)",
    );
    error_at(
        &format!("{BASE}\n[sync]\nupload_every = 5\n"),
        19,
        1,
        "unknown key \"upload_every\" (expected heartbeat_seconds or upload_seconds)",
    );
}

#[test]
fn missing_sections_and_keys() {
    let without_kiosk = BASE.replacen("[kiosk]\nid = \"K001\"\ndata_dir = \"var/kiosk\"\n", "", 1);
    error_at(&without_kiosk, 1, 1, "missing section [kiosk]");
    let without_central = BASE.replacen("[central]\nembedded = true\n", "", 1);
    error_at(&without_central, 1, 1, "missing section [central]");
    let without_printer = BASE.replacen(
        "[devices.printer]\nbackend = \"simulated\"\nprofile = \"generic-58\"\n",
        "",
        1,
    );
    assert!(parse(&without_printer).is_err());
    // At `devices` in the first [devices.*] header.
    let e = error_at(&without_printer, 8, 2, "missing section [devices.printer]");
    assert_eq!(e.message, "missing section [devices.printer]");
    error_at(
        &base_with("id = \"K001\"\n", ""),
        1,
        1,
        "missing key \"id\"",
    );
    error_at(
        &base_with("backend = \"simulated\"\nprofile", "profile"),
        14,
        1,
        "missing key \"backend\"",
    );
}

#[test]
fn wrong_value_types() {
    error_at(
        &base_with("\"K001\"", "5"),
        2,
        6,
        "invalid type: integer `5`, expected a string",
    );
    error_at(
        &base_with("embedded = true", "embedded = \"yes\""),
        6,
        12,
        "expected a boolean",
    );
    error_at(
        &format!("{BASE}[sync]\nheartbeat_seconds = \"30\"\n"),
        18,
        21,
        "expected an integer",
    );
    let central_not_a_table = format!(
        "central = 3\n{}",
        BASE.replacen("[central]\nembedded = true\n", "", 1)
    );
    error_at(&central_not_a_table, 1, 11, "expected a table");
}

#[test]
fn invalid_kiosk_ids() {
    for (id, column) in [
        ("\"\"", 6),
        ("\"K 001\"", 6),
        (&*format!("\"{}\"", "K".repeat(33)), 6),
    ] {
        error_at(&base_with("\"K001\"", id), 2, column, "invalid kiosk id");
    }
    error_at(
        &base_with("\"var/kiosk\"", "\" \""),
        3,
        12,
        "data_dir is empty",
    );
}

#[test]
fn unknown_backends() {
    error_at(
        &base_with(
            "[devices.idcard]\nbackend = \"simulated\"",
            "[devices.idcard]\nbackend = \"usb\"",
        ),
        9,
        11,
        "unknown idcard backend \"usb\" (expected pcsc or simulated)",
    );
    error_at(
        &base_with(
            "[devices.scanner]\nbackend = \"simulated\"",
            "[devices.scanner]\nbackend = \"hid\"",
        ),
        12,
        11,
        "unknown scanner backend \"hid\" (expected serial or simulated)",
    );
    error_at(
        &base_with(
            "[devices.printer]\nbackend = \"simulated\"",
            "[devices.printer]\nbackend = \"cups\"",
        ),
        15,
        11,
        "unknown printer backend \"cups\" (expected escpos or simulated)",
    );
}

#[test]
fn keys_the_backend_does_not_use() {
    error_at(
        &base_with(
            "[devices.idcard]\nbackend = \"simulated\"",
            "[devices.idcard]\nbackend = \"simulated\"\nreader = \"ACS\"",
        ),
        10,
        10,
        "reader is not used with backend \"simulated\"",
    );
    error_at(
        &base_with(
            "[devices.scanner]\nbackend = \"simulated\"",
            "[devices.scanner]\nbackend = \"simulated\"\nbaud = 9600",
        ),
        13,
        8,
        "baud is not used with backend \"simulated\"",
    );
    error_at(
        &base_with(
            "[devices.scanner]\nbackend = \"simulated\"",
            "[devices.scanner]\nbackend = \"simulated\"\nport = \"/dev/ttyACM0\"",
        ),
        13,
        8,
        "port is not used with backend \"simulated\"",
    );
    error_at(
        &base_with(
            "profile = \"generic-58\"",
            "profile = \"generic-58\"\nconnection = \"tcp://p:9100\"",
        ),
        17,
        14,
        "connection is not used with backend \"simulated\"",
    );
}

#[test]
fn pcsc_reader_must_not_be_empty() {
    error_at(
        &base_with(
            "[devices.idcard]\nbackend = \"simulated\"",
            "[devices.idcard]\nbackend = \"pcsc\"\nreader = \"\"",
        ),
        10,
        10,
        "reader is empty",
    );
}

#[test]
fn serial_scanner_needs_an_absolute_port_and_a_sane_baud() {
    let serial = |extra: &str| {
        base_with(
            "[devices.scanner]\nbackend = \"simulated\"",
            &format!("[devices.scanner]\nbackend = \"serial\"{extra}"),
        )
    };
    error_at(&serial(""), 12, 11, "backend \"serial\" needs port");
    error_at(
        &serial("\nport = \"ttyACM0\""),
        13,
        8,
        "must be an absolute device path",
    );
    for (baud, words) in [
        ("0", "invalid baud rate 0"),
        ("-9600", "invalid baud rate -9600"),
        ("4294967296", "invalid baud rate 4294967296"),
    ] {
        error_at(
            &serial(&format!("\nport = \"/dev/ttyACM0\"\nbaud = {baud}")),
            14,
            8,
            words,
        );
    }
}

#[test]
fn escpos_printer_needs_a_valid_connection_and_a_profile() {
    let escpos = |lines: &str| {
        base_with(
            "backend = \"simulated\"\nprofile = \"generic-58\"",
            &format!("backend = \"escpos\"{lines}"),
        )
    };
    error_at(
        &escpos("\nprofile = \"generic-58\""),
        15,
        11,
        "backend \"escpos\" needs connection",
    );
    error_at(
        &escpos("\nconnection = \"tcp://p:9100\""),
        15,
        11,
        "backend \"escpos\" needs profile = \"…\" (generic-58, generic-80 or raster-only-58)",
    );
    for (url, words) in [
        ("usb://lp0", "unknown printer URL scheme \"usb\""),
        ("/dev/usb/lp0", "has no scheme"),
        ("file://dev/usb/lp0", "needs an absolute device path"),
        ("tcp://p:99999", "invalid TCP port \"99999\""),
        (
            "serial:///dev/ttyUSB0?speed=9600",
            "unknown parameter \"speed=9600\"",
        ),
    ] {
        error_at(
            &escpos(&format!(
                "\nconnection = \"{url}\"\nprofile = \"generic-58\""
            )),
            16,
            14,
            words,
        );
    }
    error_at(
        &escpos("\nconnection = \"tcp://p\"\nprofile = \"generic-57\""),
        17,
        11,
        "unknown printer profile \"generic-57\"",
    );
}

#[test]
fn central_is_embedded_or_remote_not_both_nor_neither() {
    error_at(
        &base_with(
            "embedded = true",
            "embedded = true\nurl = \"https://c.example\"",
        ),
        7,
        7,
        "either embedded = true or url/urls, not both",
    );
    error_at(
        &base_with(
            "embedded = true",
            "embedded = true\nurls = [\"https://c.example\"]",
        ),
        7,
        8,
        "not both",
    );
    error_at(
        &base_with("embedded = true", "embedded = false"),
        5,
        1,
        "[central] needs embedded = true or url",
    );
    error_at(
        &base_with("embedded = true", "# nothing"),
        5,
        1,
        "[central] needs embedded = true or url",
    );
}

#[test]
fn remote_central_settings() {
    let remote = |lines: &str| base_with("embedded = true", lines);
    let files = "\nca = \"ca.pem\"\ncert = \"k.pem\"\nkey = \"k.key\"";
    error_at(
        &remote(&format!(
            "url = \"https://a.example\"\nurls = [\"https://b.example\"]{files}"
        )),
        7,
        8,
        "give either url or urls, not both",
    );
    error_at(&remote(&format!("urls = []{files}")), 6, 8, "urls is empty");
    error_at(
        &remote(&format!("url = \"http://c.example\"{files}")),
        6,
        7,
        "must start with https:// (got \"http\")",
    );
    error_at(
        &remote(&format!(
            "urls = [\"https://a.example\", \"c.example\"]{files}"
        )),
        6,
        30,
        "invalid URL \"c.example\"",
    );
    error_at(
        &remote(&format!("url = \"https://user:pw@c.example\"{files}")),
        6,
        7,
        "must not carry a user name or password",
    );
    error_at(
        &remote(&format!("url = \"https://c.example/?x=1\"{files}")),
        6,
        7,
        "must not have a query or fragment",
    );
    error_at(
        &remote("url = \"https://c.example\"\nca = \"ca.pem\"\ncert = \"k.pem\""),
        5,
        1,
        "[central] with url/urls needs key = \"<path to PEM file>\"",
    );
    error_at(
        &remote(&format!(
            "url = \"https://c.example\"\ndata_dir = \"x\"{files}"
        )),
        7,
        12,
        "data_dir is only used with embedded = true",
    );
    error_at(
        &remote("embedded = true\ncert = \"k.pem\""),
        7,
        8,
        "cert is only used with url/urls, not with embedded = true",
    );
    error_at(
        &remote("url = \"https://c.example\"\nca = \"\"\ncert = \"k.pem\"\nkey = \"k.key\""),
        7,
        6,
        "ca is empty",
    );
}

#[test]
fn sync_intervals_are_checked() {
    let sync = |lines: &str| format!("{BASE}\n[sync]\n{lines}\n");
    let config = parse(&sync("upload_seconds = 1")).unwrap();
    assert_eq!(
        config.sync,
        SyncSection {
            heartbeat_seconds: 30,
            upload_seconds: 1
        }
    );
    error_at(
        &sync("heartbeat_seconds = 0"),
        19,
        21,
        "heartbeat_seconds must be 1 to 120 seconds, got 0",
    );
    error_at(&sync("heartbeat_seconds = 600"), 19, 21, "got 600");
    error_at(
        &sync("upload_seconds = -5"),
        19,
        18,
        "upload_seconds must be 1 to 3600 seconds, got -5",
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = base_with(
        "[devices.idcard]\nbackend = \"simulated\"",
        "[devices]\nidcard = { reader = \"读卡器\", backend = \"nfc\" }",
    );
    // `idcard = { reader = "读卡器", backend = ` is 37 characters (but 43 bytes).
    error_at(&text, 9, 38, "unknown idcard backend \"nfc\"");
}

#[test]
fn line_column_of_offsets() {
    let text = "ab\r\ncé\nx";
    assert_eq!(line_column(text, 0), (1, 1));
    assert_eq!(line_column(text, 4), (2, 1));
    assert_eq!(line_column(text, 5), (2, 2));
    // Inside the two bytes of é: the character's own column.
    assert_eq!(line_column(text, 6), (2, 2));
    assert_eq!(line_column(text, 7), (2, 3));
    assert_eq!(line_column(text, 8), (3, 1));
    assert_eq!(line_column(text, 100), (3, 2));
}

#[test]
fn plain_messages() {
    assert_eq!(
        plain_message("unknown field `x`, expected one of `a`, `b`, `c`"),
        "unknown key \"x\" (expected a, b or c)"
    );
    assert_eq!(
        plain_message("unknown field `x`, expected `a` or `b`"),
        "unknown key \"x\" (expected a or b)"
    );
    assert_eq!(
        plain_message("unknown field `x`, there are no fields"),
        "unknown key \"x\""
    );
    assert_eq!(plain_message("missing field `id`"), "missing key \"id\"");
    assert_eq!(
        plain_message("invalid type: integer `99999999999999999999` as i128, expected i64"),
        "invalid type: integer `99999999999999999999`, expected an integer"
    );
}

// ---------------------------------------------------------------------------------------------
// [[staff]]
// ---------------------------------------------------------------------------------------------

/// A well-formed entry (PIN 2468) as `kiosk staff-entry` prints it.
fn staff_entry() -> StaffEntry {
    let number = protocol::IdNumber::parse("310101194912310013").unwrap();
    StaffEntry::new(&number, "李四", "2468", [5; 16], [6; 16]).unwrap()
}

fn staff_toml(entry: &StaffEntry) -> String {
    format!(
        "\n[[staff]]\nsalt_hex = \"{}\"\nid_hash_hex = \"{}\"\npin_hash = \"{}\"\nname_masked = \"{}\"\n",
        entry.salt_hex, entry.id_hash_hex, entry.pin_hash, entry.name_masked
    )
}

#[test]
fn staff_entries_are_read_in_order() {
    assert!(parse(BASE).unwrap().staff.is_empty());
    let one = staff_entry();
    let mut two = staff_entry();
    two.name_masked = "王*".into();
    let text = format!("{BASE}{}{}", staff_toml(&one), staff_toml(&two));
    assert_eq!(parse(&text).unwrap().staff, vec![one, two]);
}

#[test]
fn a_malformed_staff_entry_is_an_error_at_its_field() {
    let good = staff_toml(&staff_entry());
    // BASE has 16 lines; the entry starts on line 18 ([[staff]]), salt_hex on 19.
    let entry = staff_entry();
    let bad_salt = good.replace(&entry.salt_hex, "abc");
    error_at(&format!("{BASE}{bad_salt}"), 19, 12, "salt_hex must be 32");
    let bad_hash = good.replace(&entry.id_hash_hex, &"A".repeat(64));
    error_at(&format!("{BASE}{bad_hash}"), 20, 15, "id_hash_hex");
    let bad_pin = good.replace(&entry.pin_hash, "2468");
    error_at(&format!("{BASE}{bad_pin}"), 21, 12, "argon2id");
    let no_name = good.replace("name_masked = \"李*\"", "name_masked = \" \"");
    error_at(&format!("{BASE}{no_name}"), 22, 15, "name_masked is empty");
    let extra = good.replace("[[staff]]\n", "[[staff]]\npin = \"2468\"\n");
    error_at(&format!("{BASE}{extra}"), 19, 1, "unknown key \"pin\"");
    let missing = good.replace(&format!("salt_hex = \"{}\"\n", entry.salt_hex), "");
    error_at(
        &format!("{BASE}{missing}"),
        18,
        1,
        "missing key \"salt_hex\"",
    );
}
