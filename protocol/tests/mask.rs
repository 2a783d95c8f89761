//! Masking of names and ID numbers: every rule, and properties.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use protocol::mask::{mask_id_number, mask_name};

#[test]
fn chinese_two_characters() {
    assert_eq!(mask_name("张三"), "张*");
    assert_eq!(mask_name("欧阳"), "欧*");
}

#[test]
fn chinese_three_or_more_characters() {
    assert_eq!(mask_name("张小三"), "张*三");
    assert_eq!(mask_name("张小三四"), "张**四");
    assert_eq!(mask_name("爱新觉罗溥仪"), "爱****仪");
}

#[test]
fn chinese_single_character() {
    assert_eq!(mask_name("张"), "*");
}

#[test]
fn compound_surnames() {
    assert_eq!(mask_name("欧阳娜娜"), "欧阳**");
    assert_eq!(mask_name("欧阳明"), "欧阳*");
    assert_eq!(mask_name("司马相如"), "司马**");
    assert_eq!(mask_name("诸葛亮"), "诸葛*");
    assert_eq!(mask_name("上官婉儿"), "上官**");
    assert_eq!(mask_name("第五伦"), "第五*");
    assert_eq!(mask_name("歐陽修"), "歐陽*");
    // Not a compound surname: the last character stays.
    assert_eq!(mask_name("王小明"), "王*明");
}

#[test]
fn separators_stay_and_are_not_counted() {
    assert_eq!(mask_name("买买提·艾力"), "买**·*力");
    assert_eq!(mask_name("买买提•艾力"), "买**•*力");
    assert_eq!(mask_name("买买提 艾力"), "买** *力");
    assert_eq!(mask_name("阿依古丽·买买提"), "阿***·**提");
    assert_eq!(mask_name("张 三"), "张 *");
}

#[test]
fn surrounding_whitespace_is_trimmed() {
    assert_eq!(mask_name("  张三 "), "张*");
    assert_eq!(mask_name("\u{3000}张小三\u{3000}"), "张*三");
    assert_eq!(mask_name(" JOHN SMITH\n"), "J*** S****");
}

#[test]
fn empty_names() {
    assert_eq!(mask_name(""), "");
    assert_eq!(mask_name("   "), "");
}

#[test]
fn latin_names() {
    assert_eq!(mask_name("ZHANG, SAN"), "Z****, S**");
    assert_eq!(mask_name("JOHN SMITH"), "J*** S****");
    assert_eq!(mask_name("MARY-JANE O'NEIL"), "M***-J*** O'N***");
    assert_eq!(mask_name("J. R. R. TOLKIEN"), "J. R. R. T******");
    assert_eq!(mask_name("Émile Zola"), "É**** Z***");
}

#[test]
fn latin_names_that_would_show_everything_are_hidden_entirely() {
    assert_eq!(mask_name("X"), "*");
    assert_eq!(mask_name("A B"), "* *");
}

#[test]
fn id_numbers() {
    assert_eq!(mask_id_number("310104196001011234"), "310***********1234");
    assert_eq!(mask_id_number("11010519491231002X"), "110***********002X");
    assert_eq!(mask_id_number("KAZ110090123105"), "KAZ********3105");
    assert_eq!(mask_id_number("12345678"), "123*5678");
    assert_eq!(mask_id_number("1234567"), "*******");
    assert_eq!(mask_id_number(""), "");
    assert_eq!(mask_id_number("一二三四五六七八九"), "一二三**六七八九");
}

proptest! {
    #[test]
    fn masking_never_panics(s in any::<String>()) {
        let _ = mask_name(&s);
        let _ = mask_id_number(&s);
    }

    #[test]
    fn masking_keeps_the_character_count(s in any::<String>()) {
        prop_assert_eq!(mask_name(&s).chars().count(), s.trim().chars().count());
        prop_assert_eq!(mask_id_number(&s).chars().count(), s.chars().count());
    }

    #[test]
    fn id_masking_shows_at_most_the_first_3_and_last_4(s in any::<String>()) {
        let original: Vec<char> = s.chars().collect();
        let masked: Vec<char> = mask_id_number(&s).chars().collect();
        let n = original.len();
        for (i, (&o, &m)) in original.iter().zip(&masked).enumerate() {
            if n < 8 || (3..n - 4).contains(&i) {
                prop_assert_eq!(m, '*', "position {} of {:?}", i, s);
            } else {
                prop_assert_eq!(m, o);
            }
        }
    }

    #[test]
    fn masked_chinese_names_differ_from_the_input(name in "[\u{4E00}-\u{9FFF}]{2,6}") {
        prop_assert_ne!(mask_name(&name), name);
    }

    #[test]
    fn masked_chinese_names_with_separators_differ(name in "[\u{4E00}-\u{9FFF}]{1,4}[·• ][\u{4E00}-\u{9FFF}]{1,4}") {
        prop_assert_ne!(mask_name(&name), name);
    }

    #[test]
    fn masked_latin_names_hide_at_least_one_letter(name in "[A-Z]{1,8}([ ,\\-'.]{1,2}[A-Z]{1,8}){0,3}") {
        prop_assert!(mask_name(&name).contains('*'));
    }
}
