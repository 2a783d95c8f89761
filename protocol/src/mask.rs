//! Masking of names and ID numbers for display to anyone but the holder (screens, slips, logs).
//!
//! Every function keeps the number of characters: each hidden character becomes one `*`.
//!
//! # Names
//!
//! Surrounding whitespace is removed first. A name containing any Han character is masked as a
//! Chinese name, any other name as a Latin-script name.
//!
//! * Chinese names: separators (whitespace, the middle dots `·` `•` `・` `‧` and the full stops
//!   `.` `．` that stand between the parts of transliterated names) stay in place and are not
//!   counted. Of the other characters:
//!   * one character: `*`;
//!   * two: the first is kept (张三 → 张*);
//!   * three or more: the first and the last are kept (张小三 → 张*三, 买买提·艾力 → 买**·*力),
//!     except that a compound surname (欧阳, 司马, 诸葛, …) is kept whole and the entire given
//!     name is hidden (欧阳娜娜 → 欧阳**, 欧阳明 → 欧阳*). A name that merely starts with the
//!     same two characters as a compound surname is treated as having it.
//! * Latin-script names (the English name on a foreigner card, e.g. `ZHANG, SAN`): separators
//!   (whitespace, `,` `-` `'` `’` `.`) stay in place; of each word between them only the first
//!   letter is kept (`ZHANG, SAN` → `Z****, S**`). If that would hide nothing (every word is a
//!   single letter), every letter is hidden.
//!
//! # ID numbers
//!
//! The first 3 and the last 4 characters are kept and the others hidden
//! (`110105194912310021` → `110***********0021`); a string of fewer than 8 characters is hidden
//! entirely, since keeping 7 of it would show nearly all of it.

/// Compound surnames kept whole by [`mask_name`] (simplified and traditional forms).
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "呼延", "百里", "东郭", "闻人", "澹台",
    "公羊", "太史", "申屠", "赫连", "濮阳", "钟离", "万俟", "司空", "淳于", "单于", "拓跋", "第五",
    "左丘", "东门", "梁丘", "公冶", "谷梁", "宰父", "乐正", "仲孙", "叔孙", "微生", "羊舌", "巫马",
    "公西", "漆雕", "壤驷", "公良", "段干", "子车", "颛孙", "鲜于", "闾丘", "亓官", "司寇", "完颜",
    "耶律", "歐陽", "司馬", "諸葛", "東方", "尉遲", "公孫", "長孫", "軒轅", "獨孤", "南宮", "西門",
    "東郭", "聞人", "濮陽", "鍾離", "萬俟", "單于", "顓孫", "鮮于", "閭丘", "東門", "穀梁", "樂正",
    "叔孫", "仲孫", "巫馬", "壤駟", "子車",
];

/// Masks a name for display to anyone but its holder (rules in the module documentation).
pub fn mask_name(name: &str) -> String {
    let name = name.trim();
    if name.chars().any(is_han) {
        mask_chinese_name(name)
    } else {
        mask_latin_name(name)
    }
}

/// Masks an ID number: keeps the first 3 and last 4 characters, or nothing below 8 characters.
pub fn mask_id_number(number: &str) -> String {
    let count = number.chars().count();
    if count < 8 {
        return "*".repeat(count);
    }
    let last_start = count - 4;
    number
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 3 || i >= last_start { c } else { '*' })
        .collect()
}

fn is_han(c: char) -> bool {
    matches!(
        c,
        '\u{3007}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{2FA1F}'
            | '\u{30000}'..='\u{323AF}'
    )
}

fn is_chinese_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '·' | '•' | '・' | '‧' | '.' | '．')
}

fn is_latin_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '-' | '\'' | '’' | '.')
}

fn mask_chinese_name(name: &str) -> String {
    let counted: Vec<char> = name.chars().filter(|&c| !is_chinese_separator(c)).collect();
    let count = counted.len();
    let compound = count >= 3
        && counted.get(..2).is_some_and(|first_two| {
            COMPOUND_SURNAMES
                .iter()
                .any(|s| s.chars().eq(first_two.iter().copied()))
        });
    let keep = |i: usize| match count {
        0 | 1 => false,
        2 => i == 0,
        _ if compound => i < 2,
        _ => i == 0 || i + 1 == count,
    };
    let mut index = 0;
    name.chars()
        .map(|c| {
            if is_chinese_separator(c) {
                return c;
            }
            let kept = keep(index);
            index += 1;
            if kept { c } else { '*' }
        })
        .collect()
}

fn mask_latin_name(name: &str) -> String {
    let mut at_word_start = true;
    let mut hid_something = false;
    let masked: String = name
        .chars()
        .map(|c| {
            if is_latin_separator(c) {
                at_word_start = true;
                c
            } else if at_word_start {
                at_word_start = false;
                c
            } else {
                hid_something = true;
                '*'
            }
        })
        .collect();
    if hid_something {
        masked
    } else {
        name.chars()
            .map(|c| if is_latin_separator(c) { c } else { '*' })
            .collect()
    }
}
