//! Reading citizens from a CSV file, for `central import-citizens --data DIR FILE.csv`.
//!
//! The file has a header row naming exactly the columns `id_number`, `name`, `photo`, `color`
//! and `realname_verified`, in any order, then one citizen per row:
//!
//! * `id_number`: any number [`IdNumber::parse`] accepts;
//! * `name`: the full name, 1 to [`MAX_NAME_CHARS`] characters;
//! * `photo`: the path of a PNG or JPEG file (relative paths are taken from the CSV file's
//!   directory), at most [`MAX_PHOTO_BYTES`]; empty for no photo. The type comes from the file's
//!   first bytes, not from its name;
//! * `color`: `green`, `yellow` or `red` (also `绿`, `黄`, `红`);
//! * `realname_verified`: `true`/`false`, `1`/`0`, `yes`/`no` or `是`/`否`.
//!
//! The CSV follows RFC 4180: fields in double quotes may hold commas, line breaks and doubled
//! quotes; CRLF or LF line ends; a UTF-8 byte-order mark at the start and blank lines are ignored.
//!
//! Import is all or nothing: every problem in the file is reported, each with its line and
//! column, and no citizen is returned unless there are none. Error messages never repeat what
//! the file says (an ID number or a name could be anywhere in a malformed file), only where and
//! what is wrong.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::Path;

use protocol::api::Color;
use protocol::{IdNumber, IdNumberError};

use crate::model::{NewCitizen, StoredPhoto};

/// The `id_number` column.
pub const COL_ID_NUMBER: &str = "id_number";
/// The `name` column.
pub const COL_NAME: &str = "name";
/// The `photo` column.
pub const COL_PHOTO: &str = "photo";
/// The `color` column.
pub const COL_COLOR: &str = "color";
/// The `realname_verified` column.
pub const COL_REALNAME_VERIFIED: &str = "realname_verified";
/// The columns the header must name, each exactly once.
pub const COLUMNS: [&str; 5] = [
    COL_ID_NUMBER,
    COL_NAME,
    COL_PHOTO,
    COL_COLOR,
    COL_REALNAME_VERIFIED,
];

/// The largest photo accepted, in bytes (2 MiB).
pub const MAX_PHOTO_BYTES: u64 = 2 * 1024 * 1024;
/// The longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;

const PNG_SIGNATURE: [u8; 8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
const JPEG_SOI: [u8; 3] = [0xFF, 0xD8, 0xFF];

/// What is wrong with an ID number, without the number itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdProblem {
    /// Empty.
    Empty,
    /// Neither 18 nor 15 characters.
    Length {
        /// How many characters there were.
        found: usize,
    },
    /// A character that cannot stand at this position (1-based).
    Character {
        /// 1-based position.
        position: usize,
    },
    /// A first-generation 15-digit number.
    Obsolete,
    /// Unknown region or province code.
    Region,
    /// The birth date is not a real date.
    BirthDate,
    /// The check character does not match.
    CheckCharacter,
}

impl From<&IdNumberError> for IdProblem {
    fn from(error: &IdNumberError) -> Self {
        match error {
            IdNumberError::Empty => Self::Empty,
            IdNumberError::Length { found } => Self::Length { found: *found },
            IdNumberError::Character { position } => Self::Character {
                position: *position,
            },
            IdNumberError::Obsolete => Self::Obsolete,
            IdNumberError::Region => Self::Region,
            IdNumberError::BirthDate => Self::BirthDate,
            IdNumberError::CheckCharacter { .. } => Self::CheckCharacter,
        }
    }
}

impl fmt::Display for IdProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the ID number is empty"),
            Self::Length { found } => {
                write!(
                    f,
                    "an ID number has 18 or 15 characters, this one has {found}"
                )
            }
            Self::Character { position } => {
                write!(
                    f,
                    "the character at position {position} is not allowed there"
                )
            }
            Self::Obsolete => {
                f.write_str("15-digit first-generation ID numbers are no longer valid")
            }
            Self::Region => f.write_str("the region code is unknown"),
            Self::BirthDate => f.write_str("the birth date is not a real date"),
            Self::CheckCharacter => f.write_str("the check character is wrong"),
        }
    }
}

/// One problem in the file. Never holds or prints a value from the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportProblem {
    /// The file has no header row.
    #[error("the file is empty: a header row is required")]
    Empty,
    /// A quoted field is not closed before the end of the file.
    #[error("a quoted field is never closed")]
    UnterminatedQuote,
    /// A double quote inside an unquoted field.
    #[error("a double quote inside a field that does not start with one")]
    StrayQuote,
    /// Something other than a comma or a line end after a closing quote.
    #[error("text after the closing quote of a field")]
    TextAfterQuote,
    /// A header field that is not one of the columns (its position, 1-based).
    #[error(
        "header field {position} is not one of id_number, name, photo, color, realname_verified"
    )]
    UnknownColumn {
        /// 1-based position in the header.
        position: usize,
    },
    /// A column named twice in the header.
    #[error("the column is named more than once in the header")]
    DuplicateColumn,
    /// A column missing from the header.
    #[error("the column is missing from the header")]
    MissingColumn,
    /// A row with a different number of fields from the header.
    #[error("expected {expected} fields, found {found}")]
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// The ID number is invalid.
    #[error("{0}")]
    IdNumber(IdProblem),
    /// The ID number already appeared on an earlier line.
    #[error("the same ID number is already on line {first_line}")]
    DuplicateIdNumber {
        /// The line where it first appeared.
        first_line: usize,
    },
    /// An empty name.
    #[error("the name is empty")]
    EmptyName,
    /// A name longer than [`MAX_NAME_CHARS`].
    #[error("the name is longer than {max} characters")]
    NameTooLong {
        /// The limit.
        max: usize,
    },
    /// A name with a control character (a line break, a tab, ...).
    #[error("the name contains a control character")]
    NameControlCharacter,
    /// The photo file does not exist.
    #[error("the photo file does not exist")]
    PhotoNotFound,
    /// The photo path names a directory or some other non-file.
    #[error("the photo path is not a regular file")]
    PhotoNotAFile,
    /// The photo file could not be read.
    #[error("the photo file cannot be read ({kind})")]
    PhotoUnreadable {
        /// What kind of I/O error.
        kind: io::ErrorKind,
    },
    /// The photo file is larger than [`MAX_PHOTO_BYTES`].
    #[error("the photo file is larger than {max} bytes")]
    PhotoTooLarge {
        /// The limit.
        max: u64,
    },
    /// The photo file is neither PNG nor JPEG.
    #[error("the photo file is neither PNG nor JPEG")]
    PhotoNotImage,
    /// The colour is not one of the accepted words.
    #[error("the colour must be green, yellow or red (绿, 黄, 红)")]
    Color,
    /// The real-name flag is not one of the accepted words.
    #[error("must be true or false (also 1/0, yes/no, 是/否)")]
    RealnameVerified,
}

/// A problem and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line of the file (1-based; a row's first line when a quoted field spans lines).
    pub line: usize,
    /// The column, when the problem is in one field.
    pub column: Option<&'static str>,
    /// What is wrong.
    pub problem: ImportProblem,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "line {}, {column}: {}", self.line, self.problem),
            None => write!(f, "line {}: {}", self.line, self.problem),
        }
    }
}

impl std::error::Error for LineError {}

/// Every problem found in a file, in file order. Displays one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportErrors(pub Vec<LineError>);

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

/// Reads citizens from CSV text. `base_dir` is where relative photo paths start (the CSV file's
/// directory).
///
/// Returns every citizen, in file order, or every problem found; never a part of the file.
pub fn parse_citizens_csv(text: &str, base_dir: &Path) -> Result<Vec<NewCitizen>, ImportErrors> {
    let (records, mut errors) = parse_csv(text);
    let mut records = records.into_iter();

    let Some(header) = records.next() else {
        if errors.is_empty() {
            errors.push(LineError {
                line: 1,
                column: None,
                problem: ImportProblem::Empty,
            });
        }
        return Err(ImportErrors(errors));
    };

    let columns = match header_columns(&header) {
        Ok(columns) => columns,
        Err(mut header_errors) => {
            // Rows cannot be read without a header; report the header and any syntax errors.
            errors.append(&mut header_errors);
            errors.sort_by_key(|e| e.line);
            return Err(ImportErrors(errors));
        }
    };

    let mut citizens = Vec::new();
    let mut first_lines: HashMap<String, usize> = HashMap::new();
    for record in records {
        if !record.well_formed {
            continue; // its syntax error is already reported
        }
        if record.fields.len() != header.fields.len() {
            errors.push(LineError {
                line: record.line,
                column: None,
                problem: ImportProblem::FieldCount {
                    expected: header.fields.len(),
                    found: record.fields.len(),
                },
            });
            continue;
        }
        match read_row(&record, &columns, base_dir, &mut first_lines) {
            Ok(citizen) => citizens.push(citizen),
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }

    if errors.is_empty() {
        Ok(citizens)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(ImportErrors(errors))
    }
}

/// Where each column is in a row (0-based field indices).
struct Columns {
    id_number: usize,
    name: usize,
    photo: usize,
    color: usize,
    realname_verified: usize,
}

fn header_columns(header: &Record) -> Result<Columns, Vec<LineError>> {
    let mut errors = Vec::new();
    if !header.well_formed {
        // The syntax error is reported already; the header cannot be trusted.
        return Err(errors);
    }
    let mut found: [Option<usize>; 5] = [None; 5];
    for (index, field) in header.fields.iter().enumerate() {
        let name = field.trim();
        let known = COLUMNS
            .iter()
            .zip(found.iter_mut())
            .find(|(column, _)| column.eq_ignore_ascii_case(name));
        match known {
            Some((column, slot)) => {
                if slot.is_some() {
                    errors.push(LineError {
                        line: header.line,
                        column: Some(column),
                        problem: ImportProblem::DuplicateColumn,
                    });
                } else {
                    *slot = Some(index);
                }
            }
            None => errors.push(LineError {
                line: header.line,
                column: None,
                problem: ImportProblem::UnknownColumn {
                    position: index + 1,
                },
            }),
        }
    }
    for (column, slot) in COLUMNS.iter().zip(found) {
        if slot.is_none() {
            errors.push(LineError {
                line: header.line,
                column: Some(column),
                problem: ImportProblem::MissingColumn,
            });
        }
    }
    match found {
        [
            Some(id_number),
            Some(name),
            Some(photo),
            Some(color),
            Some(realname_verified),
        ] if errors.is_empty() => Ok(Columns {
            id_number,
            name,
            photo,
            color,
            realname_verified,
        }),
        _ => Err(errors),
    }
}

/// Reads one well-formed row with the header's field count; every problem in it is returned.
fn read_row(
    record: &Record,
    columns: &Columns,
    base_dir: &Path,
    first_lines: &mut HashMap<String, usize>,
) -> Result<NewCitizen, Vec<LineError>> {
    let line = record.line;
    let field = |index: usize| record.fields.get(index).map_or("", |f| f.trim());
    let mut errors = Vec::new();
    let mut fail = |column: &'static str, problem: ImportProblem| {
        errors.push(LineError {
            line,
            column: Some(column),
            problem,
        });
    };

    let id_number = match IdNumber::parse(field(columns.id_number)) {
        Ok(id) => match first_lines.get(id.as_str()) {
            Some(&first_line) => {
                fail(
                    COL_ID_NUMBER,
                    ImportProblem::DuplicateIdNumber { first_line },
                );
                None
            }
            None => {
                first_lines.insert(id.as_str().to_owned(), line);
                Some(id)
            }
        },
        Err(error) => {
            fail(
                COL_ID_NUMBER,
                ImportProblem::IdNumber(IdProblem::from(&error)),
            );
            None
        }
    };

    let name = field(columns.name);
    let name_ok = match check_name(name) {
        Ok(()) => true,
        Err(problem) => {
            fail(COL_NAME, problem);
            false
        }
    };

    let photo_path = field(columns.photo);
    let photo = if photo_path.is_empty() {
        Ok(None)
    } else {
        read_photo(&base_dir.join(photo_path)).map(Some)
    };
    let photo = photo.map_err(|problem| fail(COL_PHOTO, problem)).ok();

    let color = parse_color(field(columns.color));
    if color.is_none() {
        fail(COL_COLOR, ImportProblem::Color);
    }

    let realname_verified = parse_bool(field(columns.realname_verified));
    if realname_verified.is_none() {
        fail(COL_REALNAME_VERIFIED, ImportProblem::RealnameVerified);
    }

    match (id_number, name_ok, photo, color, realname_verified) {
        (Some(id_number), true, Some(photo), Some(color), Some(realname_verified))
            if errors.is_empty() =>
        {
            Ok(NewCitizen {
                id_number,
                name: name.to_owned(),
                photo,
                color,
                realname_verified,
            })
        }
        _ => Err(errors),
    }
}

fn check_name(name: &str) -> Result<(), ImportProblem> {
    if name.is_empty() {
        return Err(ImportProblem::EmptyName);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ImportProblem::NameTooLong {
            max: MAX_NAME_CHARS,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(ImportProblem::NameControlCharacter);
    }
    Ok(())
}

/// Reads and checks a photo file; the type comes from the magic bytes.
fn read_photo(path: &Path) -> Result<StoredPhoto, ImportProblem> {
    let metadata = fs::metadata(path).map_err(|error| match error.kind() {
        io::ErrorKind::NotFound => ImportProblem::PhotoNotFound,
        kind => ImportProblem::PhotoUnreadable { kind },
    })?;
    if !metadata.is_file() {
        return Err(ImportProblem::PhotoNotAFile);
    }
    if metadata.len() > MAX_PHOTO_BYTES {
        return Err(ImportProblem::PhotoTooLarge {
            max: MAX_PHOTO_BYTES,
        });
    }
    let unreadable = |error: io::Error| ImportProblem::PhotoUnreadable { kind: error.kind() };
    let file = fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    // One byte more than the limit, in case the file grew since the metadata was read.
    file.take(MAX_PHOTO_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_PHOTO_BYTES {
        return Err(ImportProblem::PhotoTooLarge {
            max: MAX_PHOTO_BYTES,
        });
    }
    let mime = if bytes.starts_with(&PNG_SIGNATURE) {
        "image/png"
    } else if bytes.starts_with(&JPEG_SOI) {
        "image/jpeg"
    } else {
        return Err(ImportProblem::PhotoNotImage);
    };
    Ok(StoredPhoto {
        mime: mime.to_owned(),
        bytes,
    })
}

/// `green`/`yellow`/`red` in any ASCII case, or `绿`/`黄`/`红` (with or without `码`).
pub fn parse_color(text: &str) -> Option<Color> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "green" | "绿" | "绿码" => Some(Color::Green),
        "yellow" | "黄" | "黄码" => Some(Color::Yellow),
        "red" | "红" | "红码" => Some(Color::Red),
        _ => None,
    }
}

/// `true`/`false`, `1`/`0`, `yes`/`no` in any ASCII case, or `是`/`否`.
pub fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "true" | "1" | "yes" | "是" => Some(true),
        "false" | "0" | "no" | "否" => Some(false),
        _ => None,
    }
}

/// One CSV record.
struct Record {
    /// The line it starts on (1-based).
    line: usize,
    /// Its fields, unquoted.
    fields: Vec<String>,
    /// False when the record had a syntax error (already reported).
    well_formed: bool,
}

/// Splits RFC 4180 text into records, skipping blank lines. Syntax errors are reported, and the
/// records that have them are marked; parsing goes on after them.
fn parse_csv(text: &str) -> (Vec<Record>, Vec<LineError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut errors = Vec::new();

    let mut chars = text.chars().peekable();
    let mut line = 1_usize;
    loop {
        if chars.peek().is_none() {
            break;
        }
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false; // the current field started with a quote
        let mut in_quotes = false;
        let mut well_formed = true;
        let report = |errors: &mut Vec<LineError>, problem: ImportProblem, ok: &mut bool| {
            if *ok {
                errors.push(LineError {
                    line: start_line,
                    column: None,
                    problem,
                });
            }
            *ok = false;
        };
        // Read one record.
        loop {
            let Some(c) = chars.next() else {
                if in_quotes {
                    report(
                        &mut errors,
                        ImportProblem::UnterminatedQuote,
                        &mut well_formed,
                    );
                }
                break;
            };
            if in_quotes {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => in_quotes = false,
                    '\r' if chars.peek() == Some(&'\n') => {
                        chars.next();
                        line += 1;
                        field.push_str("\r\n");
                    }
                    '\n' | '\r' => {
                        line += 1;
                        field.push(c);
                    }
                    _ => field.push(c),
                }
                continue;
            }
            match c {
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    quoted = false;
                }
                '\r' | '\n' => {
                    if c == '\r' && chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    break;
                }
                '"' if field.is_empty() && !quoted => {
                    quoted = true;
                    in_quotes = true;
                }
                '"' => {
                    let problem = if quoted {
                        ImportProblem::TextAfterQuote
                    } else {
                        ImportProblem::StrayQuote
                    };
                    report(&mut errors, problem, &mut well_formed);
                    field.push(c);
                }
                _ => {
                    if quoted {
                        report(&mut errors, ImportProblem::TextAfterQuote, &mut well_formed);
                    }
                    field.push(c);
                }
            }
        }
        let blank = fields.is_empty() && !quoted && field.trim().is_empty();
        fields.push(field);
        if !blank {
            records.push(Record {
                line: start_line,
                fields,
                well_formed,
            });
        }
    }
    (records, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        let (records, errors) = parse_csv(text);
        assert!(errors.is_empty(), "{errors:?}");
        records.into_iter().map(|r| r.fields).collect()
    }

    #[test]
    fn splits_rfc4180() {
        assert_eq!(
            fields("\u{feff}a,\"b,c\",\"d\"\"e\"\r\n\r\n\"x\ny\",,z\n"),
            vec![
                vec!["a".to_owned(), "b,c".to_owned(), "d\"e".to_owned()],
                vec!["x\ny".to_owned(), String::new(), "z".to_owned()],
            ]
        );
        assert_eq!(fields("\"\"\n"), vec![vec![String::new()]]);
        assert!(fields("\n\n  \n").is_empty());
    }

    #[test]
    fn records_start_lines() {
        let (records, _) = parse_csv("h\n\n\"a\nb\"\nc");
        let lines: Vec<usize> = records.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 3, 5]);
    }
}
