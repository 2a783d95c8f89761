//! The demo citizens and their generated portraits, and the citizens CSV import: the happy
//! path, RFC 4180 quoting, every problem it reports, and that its messages never repeat an ID
//! number or a name from the file.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::fs;
use std::io::Cursor;
use std::path::Path;

use central::demo::{
    DEMO_CITIZEN_COUNT, DemoCitizen, DemoCode, DemoRole, PHOTO_HEIGHT, PHOTO_WIDTH, avatar_png,
    demo_citizens,
};
use central::import::{
    COL_COLOR, COL_ID_NUMBER, COL_NAME, COL_PHOTO, COL_REALNAME_VERIFIED, IdProblem, ImportErrors,
    ImportProblem, LineError, MAX_PHOTO_BYTES, parse_citizens_csv,
};
use proptest::prelude::*;
use protocol::IdNumber;
use protocol::api::Color;
use protocol::eligibility::{Eligibility, Facts, IneligibleReason, age_on, assess};
use protocol::idnumber::{IdKind, PermitRegion, check_character};
use time::{Date, Month};

// ---------------------------------------------------------------------------------------------
// Demo citizens
// ---------------------------------------------------------------------------------------------

fn date(year: i32, month: Month, day: u8) -> Date {
    Date::from_calendar_date(year, month, day).unwrap()
}

fn first_day() -> Date {
    date(2026, Month::November, 21)
}

fn last_day() -> Date {
    date(2040, Month::January, 1)
}

fn with_role(people: &[DemoCitizen], role: DemoRole) -> Vec<&DemoCitizen> {
    people.iter().filter(|p| p.role == role).collect()
}

/// A distinct index per role; fails to compile when a role is added and not listed here.
fn role_index(role: DemoRole) -> usize {
    match role {
        DemoRole::EligibleSenior => 0,
        DemoRole::Under60 => 1,
        DemoRole::NoPhoto => 2,
        DemoRole::NotRealNameVerified => 3,
        DemoRole::ActiveCode => 4,
        DemoRole::LostCode => 5,
        DemoRole::Yellow => 6,
        DemoRole::Red => 7,
        DemoRole::Foreigner2023Senior => 8,
        DemoRole::Foreigner2017Senior => 9,
        DemoRole::PermitSenior => 10,
        DemoRole::LeapDaySenior => 11,
    }
}

#[test]
fn every_demo_id_number_is_valid_and_unique() {
    let people = demo_citizens();
    assert_eq!(people.len(), DEMO_CITIZEN_COUNT);
    assert!(people.len() >= 12);
    let mut numbers = HashSet::new();
    let mut names = HashSet::new();
    for person in &people {
        let text = person.citizen.id_number.as_str();
        let reparsed = IdNumber::parse(text).expect("a demo ID number does not parse");
        assert_eq!(reparsed, person.citizen.id_number);
        if text.len() == 18 {
            assert_eq!(
                check_character(&text[..17]),
                text.chars().last(),
                "{:?}",
                person.citizen.id_number
            );
        }
        if person.citizen.id_number.kind() == IdKind::Resident {
            assert!(text.starts_with("31"), "not a Shanghai region code");
        }
        assert!(
            numbers.insert(text.to_owned()),
            "two demo people share a number"
        );
        assert!(
            names.insert(person.citizen.name.clone()),
            "two demo people share a name"
        );
        assert!(!person.citizen.name.trim().is_empty());
    }
}

#[test]
fn the_demo_roles_cover_every_variant() {
    let people = demo_citizens();
    assert_eq!(DemoRole::ALL.len(), 12);
    let mut seen = [false; 12];
    for role in DemoRole::ALL {
        seen[role_index(role)] = true;
        assert!(
            !with_role(&people, role).is_empty(),
            "no demo person for {role:?}"
        );
        assert!(!role.description().is_empty());
        assert!(!role.as_str().is_empty());
    }
    assert!(seen.iter().all(|s| *s), "DemoRole::ALL misses a variant");
    let slugs: HashSet<_> = DemoRole::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(slugs.len(), DemoRole::ALL.len());
}

#[test]
fn the_demo_people_demonstrate_what_their_role_says() {
    let people = demo_citizens();
    for person in &people {
        let c = &person.citizen;
        let birth = c.id_number.birth_date();
        let facts = Facts {
            birth_date: birth,
            has_photo: c.photo.is_some(),
            realname_verified: c.realname_verified,
        };
        let expected_code = match person.role {
            DemoRole::ActiveCode | DemoRole::Yellow | DemoRole::Red => DemoCode::Active,
            DemoRole::LostCode => DemoCode::Lost,
            _ => DemoCode::None,
        };
        assert_eq!(person.code, expected_code, "{:?}", person.role);
        let expected_color = match person.role {
            DemoRole::Yellow => Color::Yellow,
            DemoRole::Red => Color::Red,
            _ => Color::Green,
        };
        assert_eq!(c.color, expected_color, "{:?}", person.role);

        if person.role == DemoRole::Under60 {
            assert_eq!(birth.year(), 1990);
            for day in [first_day(), last_day()] {
                assert!(age_on(birth, day) < 60);
                assert!(matches!(
                    assess(&facts, day),
                    Eligibility::NotEligible(IneligibleReason::UnderAge { .. })
                ));
            }
            continue;
        }

        assert!((1930..=1960).contains(&birth.year()), "{:?}", person.role);
        for day in [first_day(), last_day()] {
            assert!(age_on(birth, day) >= 60, "{:?} under 60", person.role);
            let expected = match person.role {
                DemoRole::NoPhoto => Eligibility::NotEligible(IneligibleReason::NoPhoto),
                DemoRole::NotRealNameVerified => {
                    Eligibility::NotEligible(IneligibleReason::NotRealNameVerified)
                }
                _ => Eligibility::Eligible,
            };
            assert_eq!(assess(&facts, day), expected, "{:?}", person.role);
        }

        match person.role {
            DemoRole::Foreigner2023Senior => {
                assert_eq!(c.id_number.kind(), IdKind::Foreigner2023);
                assert!(c.id_number.as_str().starts_with("931"));
            }
            DemoRole::Foreigner2017Senior => {
                assert_eq!(c.id_number.kind(), IdKind::Foreigner2017);
            }
            DemoRole::PermitSenior => assert_eq!(
                c.id_number.kind(),
                IdKind::ResidencePermit(PermitRegion::HongKong)
            ),
            DemoRole::LeapDaySenior => {
                assert_eq!((birth.month(), birth.day()), (Month::February, 29));
            }
            _ => assert_eq!(c.id_number.kind(), IdKind::Resident),
        }
    }
}

#[test]
fn demo_photos_are_generated_pngs() {
    let people = demo_citizens();
    let mut photos = HashSet::new();
    for person in &people {
        let Some(photo) = &person.citizen.photo else {
            assert_eq!(person.role, DemoRole::NoPhoto);
            continue;
        };
        assert_eq!(photo.mime, "image/png");
        assert_eq!(decode(&photo.bytes).0, (PHOTO_WIDTH, PHOTO_HEIGHT));
        assert!(
            photos.insert(photo.bytes.clone()),
            "two demo people share a photo"
        );
    }
    // Deterministic: a second call gives the same people and photos.
    assert_eq!(people, demo_citizens());
}

/// Decodes a PNG into ((width, height), RGB8 pixels).
fn decode(bytes: &[u8]) -> ((u32, u32), Vec<u8>) {
    let decoder = png::Decoder::new(Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("not a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).expect("PNG does not decode");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buffer.truncate(info.buffer_size());
    ((info.width, info.height), buffer)
}

fn luminance(pixels: &[u8], width: u32, x: u32, y: u32) -> u32 {
    let i = ((y * width + x) * 3) as usize;
    u32::from(pixels[i]) * 3 + u32::from(pixels[i + 1]) * 6 + u32::from(pixels[i + 2])
}

#[test]
fn avatars_decode_to_the_requested_size() {
    for (width, height) in [(102, 126), (204, 252), (1, 1), (7, 3)] {
        let ((w, h), pixels) = decode(&avatar_png(42, width, height));
        assert_eq!((w, h), (width, height));
        assert_eq!(pixels.len(), (width * height * 3) as usize);
    }
    // Out-of-range sides are clamped rather than failing.
    assert_eq!(decode(&avatar_png(1, 0, 0)).0, (1, 1));
}

#[test]
fn avatars_are_a_dark_figure_on_a_light_background() {
    for seed in 0..20 {
        let (width, height) = (102, 126);
        let ((_, _), pixels) = decode(&avatar_png(seed, width, height));
        let corner = luminance(&pixels, width, 1, 1);
        let head = luminance(&pixels, width, width / 2, height * 2 / 5);
        let shoulders = luminance(&pixels, width, width / 2, height - 2);
        assert!(corner > 2000, "background is not light: {corner}");
        assert!(head + 500 < corner, "head does not stand out");
        assert!(shoulders + 500 < corner, "body does not stand out");
        // Never a health colour: the figure is blue to violet, blue its strongest channel.
        let i = (((height * 2 / 5) * width + width / 2) * 3) as usize;
        let (r, g, b) = (pixels[i], pixels[i + 1], pixels[i + 2]);
        assert!(b > r && b > g, "seed {seed}: figure colour ({r}, {g}, {b})");
    }
}

#[test]
fn avatars_are_deterministic_and_differ_per_seed() {
    let mut seen = HashSet::new();
    for seed in (0..32).chain([u64::MAX, 1 << 40]) {
        let a = avatar_png(seed, 102, 126);
        assert_eq!(
            a,
            avatar_png(seed, 102, 126),
            "seed {seed} is not deterministic"
        );
        assert!(
            seen.insert(decode(&a).1),
            "seed {seed} repeats another seed's image"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// CSV import
// ---------------------------------------------------------------------------------------------

/// A valid resident number for the demo of this test, from the first 17 digits.
fn id(first17: &str) -> String {
    let mut text = first17.to_owned();
    text.push(check_character(first17).unwrap());
    text
}

/// The same number with a wrong check character.
fn bad_check(first17: &str) -> String {
    let right = check_character(first17).unwrap();
    let wrong = if right == '0' { '1' } else { '0' };
    format!("{first17}{wrong}")
}

fn png_bytes() -> Vec<u8> {
    avatar_png(7, 102, 126)
}

fn jpeg_bytes() -> Vec<u8> {
    // Only the magic is checked; a JFIF start is enough.
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    bytes.extend_from_slice(&[0; 64]);
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

fn errors_of(text: &str, dir: &Path) -> ImportErrors {
    match parse_citizens_csv(text, dir) {
        Ok(citizens) => panic!("expected errors, got {} citizens", citizens.len()),
        Err(errors) => errors,
    }
}

/// (line, column, problem) triples.
fn triples(errors: &ImportErrors) -> Vec<(usize, Option<&'static str>, ImportProblem)> {
    errors
        .0
        .iter()
        .map(|e| (e.line, e.column, e.problem.clone()))
        .collect()
}

#[test]
fn imports_a_well_formed_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("photos")).unwrap();
    fs::write(dir.path().join("photos/a.png"), png_bytes()).unwrap();
    // The type comes from the magic, not the name.
    fs::write(dir.path().join("photos/b.png"), jpeg_bytes()).unwrap();
    let absolute = dir.path().join("c, d.jpg");
    fs::write(&absolute, jpeg_bytes()).unwrap();

    let a = id("31010119520314002");
    let b = id("31010419490823001");
    let c = id("81000019480705002");
    let d = id("31011219900512011");
    let e = "DEU310151092135";
    let text = format!(
        "\u{feff}name,color,id_number,realname_verified,photo\r\n\
         王秀英,green,{a},true,photos/a.png\r\n\
         \r\n\
         \"李建国\",绿,{b},是,\"photos/b.png\"\r\n\
         \"陈美玲, 女士\",YELLOW,{c},1,\"{abs}\"\r\n\
         周晓明,红,{d_lower},no,\r\n\
         WEBER HANS ,  red , {e} ,否,  \r\n",
        abs = absolute.display(),
        d_lower = d.to_lowercase(),
    );
    let citizens = parse_citizens_csv(&text, dir.path()).unwrap();
    assert_eq!(citizens.len(), 5);

    let by = |i: usize| &citizens[i];
    assert_eq!(by(0).id_number.as_str(), a);
    assert_eq!(by(0).name, "王秀英");
    assert_eq!(by(0).color, Color::Green);
    assert!(by(0).realname_verified);
    let photo = by(0).photo.as_ref().unwrap();
    assert_eq!(photo.mime, "image/png");
    assert_eq!(photo.bytes, png_bytes());

    assert_eq!(by(1).id_number.as_str(), b);
    assert_eq!(by(1).name, "李建国");
    assert_eq!(by(1).color, Color::Green);
    assert!(by(1).realname_verified);
    assert_eq!(by(1).photo.as_ref().unwrap().mime, "image/jpeg");

    assert_eq!(by(2).name, "陈美玲, 女士");
    assert_eq!(by(2).color, Color::Yellow);
    assert!(by(2).realname_verified);
    assert_eq!(by(2).photo.as_ref().unwrap().bytes, jpeg_bytes());

    assert_eq!(by(3).id_number.as_str(), d);
    assert_eq!(by(3).color, Color::Red);
    assert!(!by(3).realname_verified);
    assert!(by(3).photo.is_none());

    assert_eq!(by(4).id_number.as_str(), e);
    assert_eq!(by(4).name, "WEBER HANS");
    assert_eq!(by(4).color, Color::Red);
    assert!(!by(4).realname_verified);
    assert!(by(4).photo.is_none());
}

#[test]
fn accepts_every_spelling_of_colour_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let colors = [
        ("green", Color::Green),
        ("Green", Color::Green),
        ("绿", Color::Green),
        ("绿码", Color::Green),
        ("yellow", Color::Yellow),
        ("黄", Color::Yellow),
        ("red", Color::Red),
        ("红", Color::Red),
    ];
    let flags = [
        ("true", true),
        ("TRUE", true),
        ("1", true),
        ("yes", true),
        ("是", true),
        ("false", false),
        ("0", false),
        ("No", false),
        ("否", false),
    ];
    let mut text = String::from("id_number,name,photo,color,realname_verified\n");
    let mut expected = Vec::new();
    for (i, ((color_text, color), (flag_text, flag))) in
        colors.iter().cycle().zip(flags).enumerate()
    {
        let number = id(&format!("31010119500101{:03}", i + 1));
        text.push_str(&format!("{number},张三{i},,{color_text},{flag_text}\n"));
        expected.push((*color, flag));
    }
    let citizens = parse_citizens_csv(&text, dir.path()).unwrap();
    let got: Vec<_> = citizens
        .iter()
        .map(|c| (c.color, c.realname_verified))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn a_header_only_file_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for text in [
        "id_number,name,photo,color,realname_verified",
        "id_number,name,photo,color,realname_verified\n\n\n",
        "\u{feff} ID_Number , Name,photo,COLOR,realname_verified\r\n",
    ] {
        assert_eq!(parse_citizens_csv(text, dir.path()).unwrap(), vec![]);
    }
}

#[test]
fn quoting_edge_cases() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a \"b\", c.png"), png_bytes()).unwrap();
    let a = id("31010119520314002");
    let b = id("31010419490823001");
    let c = id("31011519560611002");
    // Quoted header fields, doubled quotes, a comma in a file name, an empty quoted field, no
    // trailing newline, LF and CRLF mixed.
    let text = format!(
        "\"id_number\",\"name\",\"photo\",\"color\",\"realname_verified\"\n\
         \"{a}\",\"O\"\"Neil Mary\",\"a \"\"b\"\", c.png\",\"green\",\"true\"\r\n\
         {b},\"\"\"Lao\"\" Wang\",\"\",red,false\n\
         {c},\"张,三\",,green,true"
    );
    let citizens = parse_citizens_csv(&text, dir.path()).unwrap();
    assert_eq!(citizens.len(), 3);
    assert_eq!(citizens[0].name, "O\"Neil Mary");
    assert_eq!(citizens[0].photo.as_ref().unwrap().bytes, png_bytes());
    assert_eq!(citizens[1].name, "\"Lao\" Wang");
    assert!(citizens[1].photo.is_none());
    assert_eq!(citizens[2].name, "张,三");
}

#[test]
fn line_numbers_count_physical_lines() {
    let dir = tempfile::tempdir().unwrap();
    let a = id("31010119520314002");
    // A quoted field spanning lines 3-4 (a line break in a name is an error), blank lines, and
    // an error after them on line 7.
    let text = format!(
        "id_number,name,photo,color,realname_verified\n\
         \n\
         {a},\"王\n秀英\",,green,true\n\
         \r\n\
         \n\
         {a},王秀英,,purple,true\n"
    );
    let errors = errors_of(&text, dir.path());
    assert_eq!(
        triples(&errors),
        vec![
            (3, Some(COL_NAME), ImportProblem::NameControlCharacter),
            (
                7,
                Some(COL_ID_NUMBER),
                ImportProblem::DuplicateIdNumber { first_line: 3 }
            ),
            (7, Some(COL_COLOR), ImportProblem::Color),
        ]
    );
}

#[test]
fn csv_syntax_errors() {
    let dir = tempfile::tempdir().unwrap();
    let header = "id_number,name,photo,color,realname_verified\n";
    let a = id("31010119520314002");
    let b = id("31010419490823001");
    let cases = [
        (
            format!("{header}{a},王\"秀英,,green,true\n"),
            ImportProblem::StrayQuote,
        ),
        (
            format!("{header}{a},\"王秀英\"x,,green,true\n"),
            ImportProblem::TextAfterQuote,
        ),
        (
            format!("{header}{a},\"王秀英\" ,,green,true\n"),
            ImportProblem::TextAfterQuote,
        ),
        (
            format!("{header}{a},\"王秀英,,green,true\n{b},李建国,,green,true\n"),
            ImportProblem::UnterminatedQuote,
        ),
    ];
    for (text, problem) in cases {
        let errors = errors_of(&text, dir.path());
        assert_eq!(triples(&errors), vec![(2, None, problem)], "{text:?}");
    }
}

#[test]
fn header_errors() {
    let dir = tempfile::tempdir().unwrap();
    for text in ["", "\u{feff}", "\n\n", "\r\n  \r\n"] {
        assert_eq!(
            triples(&errors_of(text, dir.path())),
            vec![(1, None, ImportProblem::Empty)],
            "{text:?}"
        );
    }

    let errors = errors_of("name,id_number,photo,name,colour,x\n", dir.path());
    assert_eq!(
        triples(&errors),
        vec![
            (1, Some(COL_NAME), ImportProblem::DuplicateColumn),
            (1, None, ImportProblem::UnknownColumn { position: 5 }),
            (1, None, ImportProblem::UnknownColumn { position: 6 }),
            (1, Some(COL_COLOR), ImportProblem::MissingColumn),
            (1, Some(COL_REALNAME_VERIFIED), ImportProblem::MissingColumn),
        ]
    );

    // A header with a syntax error reports the syntax error.
    let errors = errors_of(
        "id_number,\"name,photo,color,realname_verified\n",
        dir.path(),
    );
    assert_eq!(
        triples(&errors),
        vec![(1, None, ImportProblem::UnterminatedQuote)]
    );
}

#[test]
fn field_count_errors() {
    let dir = tempfile::tempdir().unwrap();
    let a = id("31010119520314002");
    let text = format!(
        "id_number,name,photo,color,realname_verified\n\
         {a},王秀英,,green\n\
         {a},王秀英,,green,true,\n"
    );
    assert_eq!(
        triples(&errors_of(&text, dir.path())),
        vec![
            (
                2,
                None,
                ImportProblem::FieldCount {
                    expected: 5,
                    found: 4
                }
            ),
            (
                3,
                None,
                ImportProblem::FieldCount {
                    expected: 5,
                    found: 6
                }
            ),
        ]
    );
}

#[test]
fn id_number_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (String::new(), IdProblem::Empty),
        (
            "3101011952031400".to_owned(),
            IdProblem::Length { found: 16 },
        ),
        (
            "31010119520314A02X".to_owned(),
            IdProblem::Character { position: 15 },
        ),
        ("310101520314002".to_owned(), IdProblem::Obsolete),
        (id("99010119520314002"), IdProblem::Region),
        (id("31010119520230002"), IdProblem::BirthDate),
        (bad_check("31010119520314002"), IdProblem::CheckCharacter),
    ];
    let mut text = String::from("id_number,name,photo,color,realname_verified\n");
    let mut expected = Vec::new();
    for (i, (number, problem)) in cases.iter().enumerate() {
        text.push_str(&format!("{number},王秀英,,green,true\n"));
        expected.push((
            i + 2,
            Some(COL_ID_NUMBER),
            ImportProblem::IdNumber(*problem),
        ));
    }
    let errors = errors_of(&text, dir.path());
    assert_eq!(triples(&errors), expected);
    let shown = errors.to_string();
    assert!(
        shown.contains("line 8, id_number: the check character is wrong"),
        "{shown}"
    );
}

#[test]
fn name_errors() {
    let dir = tempfile::tempdir().unwrap();
    let a = id("31010119520314002");
    let b = id("31010419490823001");
    let c = id("31011519560611002");
    let long = "王".repeat(101);
    let ok = "王".repeat(100);
    let d = id("31010519450102005");
    let text = format!(
        "id_number,name,photo,color,realname_verified\n\
         {a},  ,,green,true\n\
         {b},{long},,green,true\n\
         {c},\"王\t秀英\",,green,true\n\
         {d},{ok},,green,true\n"
    );
    assert_eq!(
        triples(&errors_of(&text, dir.path())),
        vec![
            (2, Some(COL_NAME), ImportProblem::EmptyName),
            (3, Some(COL_NAME), ImportProblem::NameTooLong { max: 100 }),
            (4, Some(COL_NAME), ImportProblem::NameControlCharacter),
        ]
    );
}

#[test]
fn photo_errors() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();
    fs::create_dir(base.join("dir.png")).unwrap();
    fs::write(base.join("file.png"), png_bytes()).unwrap();
    fs::write(base.join("text.png"), b"not an image at all").unwrap();
    fs::write(base.join("empty.jpg"), b"").unwrap();
    fs::write(base.join("short.png"), &png_bytes()[..5]).unwrap();
    let mut big = png_bytes();
    big.resize(usize::try_from(MAX_PHOTO_BYTES).unwrap() + 1, 0);
    fs::write(base.join("big.png"), &big).unwrap();
    let mut exactly = png_bytes();
    exactly.resize(usize::try_from(MAX_PHOTO_BYTES).unwrap(), 0);
    fs::write(base.join("max.png"), &exactly).unwrap();

    let cases = [
        ("missing.png", Some(ImportProblem::PhotoNotFound)),
        ("dir.png", Some(ImportProblem::PhotoNotAFile)),
        (
            "file.png/inside.png",
            Some(ImportProblem::PhotoUnreadable {
                kind: std::io::ErrorKind::NotADirectory,
            }),
        ),
        (
            "big.png",
            Some(ImportProblem::PhotoTooLarge {
                max: MAX_PHOTO_BYTES,
            }),
        ),
        ("text.png", Some(ImportProblem::PhotoNotImage)),
        ("empty.jpg", Some(ImportProblem::PhotoNotImage)),
        ("short.png", Some(ImportProblem::PhotoNotImage)),
        ("max.png", None),
    ];
    let mut text = String::from("id_number,name,photo,color,realname_verified\n");
    let mut expected = Vec::new();
    for (i, (path, problem)) in cases.iter().enumerate() {
        let number = id(&format!("310101195003{:02}002", i + 1));
        text.push_str(&format!("{number},王秀英,{path},green,true\n"));
        if let Some(problem) = problem {
            expected.push((i + 2, Some(COL_PHOTO), problem.clone()));
        }
    }
    assert_eq!(triples(&errors_of(&text, base)), expected);
}

#[test]
fn colour_and_flag_errors() {
    let dir = tempfile::tempdir().unwrap();
    let a = id("31010119520314002");
    let b = id("31010419490823001");
    let text = format!(
        "id_number,name,photo,color,realname_verified\n\
         {a},王秀英,,,\n\
         {b},李建国,,blue,maybe\n"
    );
    assert_eq!(
        triples(&errors_of(&text, dir.path())),
        vec![
            (2, Some(COL_COLOR), ImportProblem::Color),
            (
                2,
                Some(COL_REALNAME_VERIFIED),
                ImportProblem::RealnameVerified
            ),
            (3, Some(COL_COLOR), ImportProblem::Color),
            (
                3,
                Some(COL_REALNAME_VERIFIED),
                ImportProblem::RealnameVerified
            ),
        ]
    );
}

#[test]
fn a_duplicate_is_an_error_on_the_later_line_only() {
    let dir = tempfile::tempdir().unwrap();
    let a = id("31010119520314002");
    let b = id("31010419490823001");
    let text = format!(
        "id_number,name,photo,color,realname_verified\n\
         {a},王秀英,,green,true\n\
         {b},李建国,,green,true\n\
         {a_lower},王秀英,,green,true\n\
         {a},王秀英,,green,true\n",
        a_lower = a.to_lowercase(),
    );
    assert_eq!(
        triples(&errors_of(&text, dir.path())),
        vec![
            (
                4,
                Some(COL_ID_NUMBER),
                ImportProblem::DuplicateIdNumber { first_line: 2 }
            ),
            (
                5,
                Some(COL_ID_NUMBER),
                ImportProblem::DuplicateIdNumber { first_line: 2 }
            ),
        ]
    );
}

#[test]
fn collects_every_problem_and_returns_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.png"), png_bytes()).unwrap();
    let a = id("31010119520314002");
    let b = id("31010419490823001");
    let text = format!(
        "id_number,name,photo,color,realname_verified\n\
         {a},王秀英,ok.png,green,true\n\
         {bad},,missing.png,blue,perhaps\n\
         {b},李建国,ok.png,red,false\n\
         {b},李建国\n\
         {a},王秀英,ok.png,red,yes\n\
         {b},\"x\"y,ok.png,red,no\n",
        bad = bad_check("31011519560611002"),
    );
    let errors = errors_of(&text, dir.path());
    assert_eq!(
        triples(&errors),
        vec![
            (
                3,
                Some(COL_ID_NUMBER),
                ImportProblem::IdNumber(IdProblem::CheckCharacter)
            ),
            (3, Some(COL_NAME), ImportProblem::EmptyName),
            (3, Some(COL_PHOTO), ImportProblem::PhotoNotFound),
            (3, Some(COL_COLOR), ImportProblem::Color),
            (
                3,
                Some(COL_REALNAME_VERIFIED),
                ImportProblem::RealnameVerified
            ),
            (
                5,
                None,
                ImportProblem::FieldCount {
                    expected: 5,
                    found: 2
                }
            ),
            (
                6,
                Some(COL_ID_NUMBER),
                ImportProblem::DuplicateIdNumber { first_line: 2 }
            ),
            (7, None, ImportProblem::TextAfterQuote),
        ]
    );
    let shown = errors.to_string();
    assert_eq!(shown.lines().count(), errors.0.len());
    assert_eq!(
        shown.lines().next(),
        Some("line 3, id_number: the check character is wrong")
    );
    assert!(
        shown.contains("line 5: expected 5 fields, found 2"),
        "{shown}"
    );
    assert!(shown.contains("line 6, id_number: the same ID number is already on line 2"));
}

#[test]
fn messages_never_repeat_an_id_number_or_a_name() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("王秀英.png"), b"GIF89a").unwrap();
    let valid = [
        id("31010119520314002"),
        id("31010419490823001"),
        "DEU310151092135".to_owned(),
    ];
    let invalid = [
        bad_check("31011519560611002"),
        "3101151956061100".to_owned(),
        id("31011519561311002"),
        "310115560611002".to_owned(),
    ];
    let names = ["王秀英", "李建国", "SMITH JANE", "陈美玲"];
    let text = format!(
        "id_number,name,photo,color,realname_verified\n\
         {v0},王秀英,王秀英.png,王秀英,李建国\n\
         {v0},李建国,李建国.png,green,true\n\
         {i0},SMITH JANE,,green,true\n\
         {i1},陈美玲,,{v1},{v2}\n\
         {i2},\"王秀英\"李建国,,green,true\n\
         {i3},陈美玲,{v2}.png,green,true\n\
         {v1},王秀英\n\
         {v2},\"陈美玲\n",
        v0 = valid[0],
        v1 = valid[1],
        v2 = valid[2],
        i0 = invalid[0],
        i1 = invalid[1],
        i2 = invalid[2],
        i3 = invalid[3],
    );
    // Also a file without its header: the first data row is read as a header.
    let headless = format!(
        "{},王秀英,,green,true\n{},李建国,,red,false\n",
        valid[0], valid[1]
    );
    for text in [text, headless] {
        let errors = errors_of(&text, dir.path());
        assert!(!errors.0.is_empty());
        let shown = errors.to_string();
        let debug = format!("{errors:?}");
        for secret in valid
            .iter()
            .chain(&invalid)
            .map(String::as_str)
            .chain(names)
        {
            assert!(
                !shown.contains(secret),
                "a message repeats {secret:?}: {shown}"
            );
            assert!(!debug.contains(secret), "the Debug form repeats {secret:?}");
        }
        // Not even the longer digit runs of a number.
        for number in valid.iter().chain(&invalid) {
            for window in number.as_bytes().windows(8) {
                let window = std::str::from_utf8(window).unwrap();
                assert!(!shown.contains(window), "{shown}");
            }
        }
    }
}

#[test]
fn line_error_display() {
    let with_column = LineError {
        line: 7,
        column: Some(COL_ID_NUMBER),
        problem: ImportProblem::IdNumber(IdProblem::CheckCharacter),
    };
    assert_eq!(
        with_column.to_string(),
        "line 7, id_number: the check character is wrong"
    );
    let without = LineError {
        line: 1,
        column: None,
        problem: ImportProblem::Empty,
    };
    assert_eq!(
        ImportErrors(vec![with_column, without]).to_string(),
        "line 7, id_number: the check character is wrong\n\
         line 1: the file is empty: a header row is required"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let dir = tempfile::tempdir().unwrap();
        let _ = parse_citizens_csv(&text, dir.path());
    }

    #[test]
    fn csv_like_text_never_panics(
        body in "[0-9Xx,\"\r\n a王绿是.png/]{0,300}",
        header in prop::sample::select(vec![
            "id_number,name,photo,color,realname_verified\n",
            "\u{feff}color,name,id_number,photo,realname_verified\r\n",
            "\"id_number\",name,\"photo\",color,realname_verified\n",
            "",
        ]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{header}{body}");
        if let Err(errors) = parse_citizens_csv(&text, dir.path()) {
            prop_assert!(!errors.0.is_empty());
            let shown = errors.to_string();
            prop_assert_eq!(shown.lines().count(), errors.0.len());
            let lines = text.matches(['\r', '\n']).count() + 1;
            for error in &errors.0 {
                prop_assert!(error.line >= 1 && error.line <= lines + 1);
            }
        }
    }

    #[test]
    fn well_formed_rows_round_trip(
        rows in prop::collection::vec(
            (1930_u32..1960, 1_u32..13, 1_u32..29, 0_u32..500, "[a-zA-Z王李张 ,\"]{1,12}", 0_usize..3, any::<bool>()),
            0..20,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("id_number,name,photo,color,realname_verified\r\n");
        let mut expected = Vec::new();
        let mut seen = HashSet::new();
        for (year, month, day, seq, name, color, flag) in rows {
            let number = id(&format!("310101{year}{month:02}{day:02}{seq:03}"));
            if !seen.insert(number.clone()) || name.trim().is_empty() {
                continue;
            }
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            let color_word = ["green", "黄", "RED"][color];
            text.push_str(&format!("{number},{quoted},,{color_word},{flag}\r\n"));
            expected.push((number, name.trim().to_owned(), color, flag));
        }
        let citizens = parse_citizens_csv(&text, dir.path()).unwrap();
        prop_assert_eq!(citizens.len(), expected.len());
        for (citizen, (number, name, color, flag)) in citizens.iter().zip(expected) {
            prop_assert_eq!(citizen.id_number.as_str(), number);
            prop_assert_eq!(&citizen.name, &name);
            prop_assert_eq!(citizen.color, [Color::Green, Color::Yellow, Color::Red][color]);
            prop_assert_eq!(citizen.realname_verified, flag);
        }
    }
}
