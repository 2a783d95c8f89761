//! The built-in printer profiles and the validation of configured ones.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use printer::profile::BUILTIN_NAMES;
use printer::{CutKind, Profile, ProfileError, TextEncoding};

#[test]
fn builtins_are_as_agreed() {
    let p58 = Profile::builtin("generic-58").unwrap();
    assert_eq!(
        (p58.dots_per_line, p58.native_qr, p58.qr_module_dots),
        (384, true, 6)
    );
    let p80 = Profile::builtin("generic-80").unwrap();
    assert_eq!(
        (p80.dots_per_line, p80.native_qr, p80.qr_module_dots),
        (576, true, 8)
    );
    let raster = Profile::builtin("raster-only-58").unwrap();
    assert_eq!(
        (
            raster.dots_per_line,
            raster.native_qr,
            raster.qr_module_dots
        ),
        (384, false, 6)
    );
    for name in BUILTIN_NAMES {
        let p = Profile::builtin(name).unwrap();
        assert_eq!(p.name, name);
        assert_eq!(p.encoding, TextEncoding::Gb18030);
        assert!(p.chinese_mode);
        assert_eq!(p.validate(), Ok(()));
    }
    assert_eq!(Profile::builtins().len(), 3);
    assert!(Profile::builtin("epson-tm-t88").is_none());
}

#[test]
fn cut_bytes() {
    assert_eq!(CutKind::Full.bytes(), [0x1D, 0x56, 0x00]);
    assert_eq!(CutKind::Partial.bytes(), [0x1D, 0x56, 0x01]);
    assert_eq!(CutKind::FeedPartial(3).bytes(), [0x1D, 0x56, 0x42, 3]);
    assert!(CutKind::None.bytes().is_empty());
}

#[test]
fn configured_profile_with_defaults() {
    let p: Profile =
        serde_json::from_str(r#"{"name": "shop-80", "dots_per_line": 576, "native_qr": true}"#)
            .unwrap();
    assert_eq!(p.encoding, TextEncoding::Gb18030);
    assert!(p.chinese_mode);
    assert_eq!(p.cut, CutKind::Partial);
    assert_eq!(p.qr_module_dots, 6);
}

#[test]
fn configured_profile_full() {
    let p: Profile = serde_json::from_str(
        r#"{"name": "epson-58", "dots_per_line": 360, "native_qr": false, "encoding": "gbk",
            "chinese_mode": false, "cut": {"feed-partial": 4}, "qr_module_dots": 5}"#,
    )
    .unwrap();
    assert_eq!(p.encoding, TextEncoding::Gbk);
    assert!(!p.chinese_mode);
    assert_eq!(p.cut, CutKind::FeedPartial(4));
    let none: Profile = serde_json::from_str(
        r#"{"name": "x", "dots_per_line": 384, "native_qr": true, "cut": "none", "encoding": "utf-8"}"#,
    )
    .unwrap();
    assert_eq!(none.cut, CutKind::None);
    assert_eq!(none.encoding, TextEncoding::Utf8);
}

#[test]
fn serialised_profile_reads_back() {
    for p in Profile::builtins() {
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Profile>(&json).unwrap(), p);
    }
}

#[test]
fn invalid_profiles_are_rejected() {
    for json in [
        r#"{"name": "x", "dots_per_line": 384, "native_qr": true, "qr_module_dots": 4}"#,
        r#"{"name": "x", "dots_per_line": 384, "native_qr": true, "qr_module_dots": 17}"#,
        r#"{"name": "x", "dots_per_line": 100, "native_qr": true}"#,
        r#"{"name": "x", "dots_per_line": 2000, "native_qr": true}"#,
        r#"{"name": "", "dots_per_line": 384, "native_qr": true}"#,
        r#"{"name": "x", "dots_per_line": 384, "native_qr": true, "colour": true}"#,
        r#"{"name": "x", "dots_per_line": 384}"#,
    ] {
        assert!(serde_json::from_str::<Profile>(json).is_err(), "{json}");
    }
    let mut p = Profile::builtin("generic-58").unwrap();
    p.qr_module_dots = 4;
    assert!(matches!(
        p.validate(),
        Err(ProfileError::QrModule { dots: 4, .. })
    ));
    p.qr_module_dots = 5;
    p.dots_per_line = 100;
    assert!(matches!(
        p.validate(),
        Err(ProfileError::DotsPerLine { dots: 100, .. })
    ));
}
