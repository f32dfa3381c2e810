//! Text for a person reading a terminal: lines that fit its width (cut at a word, with "…"),
//! prose wrapped, tables of one line per row. What a program reads is `--output json`, which is
//! never cut.

/// The width a line must fit: the terminal's `COLUMNS` when the shell exports it, else 100.
pub fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}

/// Columns `s` takes on a terminal (every character this CLI prints is one column wide).
pub fn columns(s: &str) -> usize {
    s.chars().count()
}

/// `s` in at most `max` columns: cut after the last whole word that fits, marked "…". A single
/// word longer than half the line (an ARN) is cut where the line ends.
pub fn cut(s: &str, max: usize) -> String {
    if columns(s) <= max {
        return s.to_owned();
    }
    let room = max.saturating_sub(1);
    let head: String = s.chars().take(room).collect();
    let next_is_space = s.chars().nth(room).is_some_and(char::is_whitespace);
    let end = if next_is_space {
        head.len()
    } else {
        head.rfind(char::is_whitespace)
            .filter(|i| columns(&head[..*i]) >= room / 2)
            .unwrap_or(head.len())
    };
    let kept = head[..end].trim_end_matches(|c: char| c.is_whitespace() || ",;:(".contains(c));
    format!("{kept}…")
}

/// Every line of `text` that is longer than `max` wrapped, under its own indentation: prose
/// (a post-mortem's Markdown) loses nothing.
pub fn reflow(text: &str, max: usize) -> String {
    text.lines()
        .map(|l| {
            let indent = &l[..l.len() - l.trim_start().len()];
            let l = l.trim_end();
            if columns(l) <= max {
                format!("{l}\n")
            } else {
                format!("{}\n", hang(l.trim_start(), max, indent, indent))
            }
        })
        .collect()
}

/// Prose in lines of at most `max` columns, each starting with `indent`.
pub fn wrap(s: &str, max: usize, indent: &str) -> String {
    hang(s, max, indent, indent)
}

/// Prose as a bullet point: `• ` and the lines after it indented under its first word.
#[cfg(feature = "demo")]
pub fn bullet(s: &str, max: usize) -> String {
    hang(s, max, "• ", "  ")
}

fn hang(s: &str, max: usize, first: &str, rest: &str) -> String {
    // Names hold hyphens (axiomcore-api-errors-critical): a line breaks only between words.
    let options = textwrap::Options::new(max)
        .initial_indent(first)
        .subsequent_indent(rest)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    textwrap::fill(s, options)
}

/// Rows of cells under a header, each column as wide as its widest cell, cut to the width asked
/// for (a table's row is one line); a row may carry a note (a reason, a name to copy) printed
/// whole under it, indented, wrapped to the width.
#[derive(Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<(Vec<String>, Option<String>)>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) -> &mut Table {
        self.rows.push((cells, None));
        self
    }

    /// The last row's note.
    pub fn note(&mut self, note: impl Into<String>) -> &mut Table {
        if let Some(last) = self.rows.last_mut() {
            last.1 = Some(note.into());
        }
        self
    }

    pub fn render(&self, max: usize) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| columns(h)).collect();
        for (cells, _) in &self.rows {
            for (i, c) in cells.iter().enumerate() {
                match widths.get_mut(i) {
                    Some(w) => *w = (*w).max(columns(c)),
                    None => widths.push(columns(c)),
                }
            }
        }
        let line = |cells: &[String]| {
            let last = cells.len().saturating_sub(1);
            let text: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == last {
                        c.clone()
                    } else {
                        format!("{c}{}", " ".repeat(widths[i] - columns(c)))
                    }
                })
                .collect();
            cut(&text.join("  "), max)
        };
        let mut out = String::new();
        if !self.header.is_empty() {
            out.push_str(&line(&self.header));
            out.push('\n');
        }
        for (cells, note) in &self.rows {
            out.push_str(&line(cells));
            out.push('\n');
            for line in note.iter().flat_map(|n| n.lines()) {
                out.push_str(&reflow(&format!("    {line}"), max));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_line_is_cut_after_a_whole_word() {
        let s = "axiomcore-api-cpu-critical is in ALARM: desired count 3→5 (max 10)";
        assert_eq!(cut(s, 40), "axiomcore-api-cpu-critical is in ALARM…");
        assert_eq!(cut(s, 200), s);
        assert_eq!(cut("a b", 3), "a b");
        // One long word: cut where the line ends.
        assert_eq!(
            cut("arn:aws:sns:us-east-1:123456789012:ops", 10),
            "arn:aws:s…"
        );
    }

    #[test]
    fn a_table_fits_its_columns_and_notes_under_rows() {
        let mut t = Table::new(&["alarm", "action", "why"]);
        t.row(vec!["api-cpu".into(), "scale_out".into(), "3→5".into()])
            .note("the CPU is over 90% for 10 minutes");
        t.row(vec![
            "api-errors-critical".into(),
            "restart".into(),
            "-".into(),
        ]);
        let text = t.render(36);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "alarm                action     why");
        assert_eq!(lines[1], "api-cpu              scale_out  3→5");
        assert_eq!(lines[2], "    the CPU is over 90% for 10");
        assert_eq!(lines[3], "    minutes");
        assert_eq!(lines[4], "api-errors-critical  restart    -");
    }

    proptest! {
        #[test]
        fn cut_fits_and_keeps_a_prefix(s in "[a-z →…:,]{0,120}", max in 2usize..110) {
            let c = cut(&s, max);
            prop_assert!(columns(&c) <= max.max(1));
            if columns(&s) <= max {
                prop_assert_eq!(&c, &s);
            } else {
                let kept = c.strip_suffix('…').unwrap_or(&c);
                prop_assert!(s.starts_with(kept), "{:?} is not a prefix of {:?}", kept, s);
            }
        }

        #[test]
        fn wrapped_prose_fits(s in "[a-z ]{0,300}", max in 20usize..110) {
            for line in wrap(&s, max, "  ").lines() {
                prop_assert!(columns(line) <= max, "{:?}", line);
            }
        }
    }
}
