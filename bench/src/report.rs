//! What the harness prints: progress on standard error, the result tables (Markdown) on standard
//! output, and the small statistics they need.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Duration;

/// A line of progress on standard error.
pub(crate) fn progress(line: &str) {
    eprintln!("bench: {line}");
}

/// A Markdown table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    /// Its title (printed as a heading).
    pub(crate) title: String,
    /// Column names.
    pub(crate) columns: Vec<String>,
    /// Rows of cells.
    pub(crate) rows: Vec<Vec<String>>,
    /// Notes printed under the table.
    pub(crate) notes: Vec<String>,
}

impl Table {
    /// An empty table with these columns.
    pub(crate) fn new(title: &str, columns: &[&str]) -> Table {
        Table {
            title: title.to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a row.
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Adds a note.
    pub(crate) fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The table as Markdown.
    pub(crate) fn markdown(&self) -> String {
        let mut out = format!("### {}\n\n", self.title);
        out.push_str(&format!("| {} |\n", self.columns.join(" | ")));
        out.push_str(&format!(
            "|{}\n",
            self.columns.iter().map(|_| "---|").collect::<String>()
        ));
        for row in &self.rows {
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                out.push_str(&format!("{note}\n"));
            }
        }
        out
    }
}

/// Prints text on standard output.
pub(crate) fn print(text: &str) {
    println!("{text}");
}

/// p50, p99 and the largest of some durations.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Percentiles {
    /// How many.
    pub(crate) count: usize,
    /// The median.
    pub(crate) p50: Duration,
    /// The 99th percentile (nearest rank).
    pub(crate) p99: Duration,
    /// The largest.
    pub(crate) max: Duration,
}

impl Percentiles {
    /// Of `samples` (any order).
    pub(crate) fn of(samples: &[Duration]) -> Percentiles {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let rank = |p: usize| -> Duration {
            if sorted.is_empty() {
                return Duration::ZERO;
            }
            // Nearest rank: the smallest value with at least p% of the samples at or below it.
            let index = (p * sorted.len()).div_ceil(100).saturating_sub(1);
            sorted.get(index).copied().unwrap_or_default()
        };
        Percentiles {
            count: sorted.len(),
            p50: rank(50),
            p99: rank(99),
            max: sorted.last().copied().unwrap_or_default(),
        }
    }
}

/// Milliseconds with one or two decimals.
pub(crate) fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Mebibytes with one decimal, from kibibytes.
pub(crate) fn mib(kib: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mib = kib as f64 / 1024.0;
    format!("{mib:.1} MiB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let p = Percentiles::of(&samples);
        assert_eq!(p.p50, Duration::from_millis(50));
        assert_eq!(p.p99, Duration::from_millis(99));
        assert_eq!(p.max, Duration::from_millis(100));
        assert_eq!(Percentiles::of(&[]).p99, Duration::ZERO);
    }
}
