//! OCR of stored snapshots, after capture and never on the input path: the Tesseract command
//! line (Debian `tesseract-ocr` + `tesseract-ocr-eng`) reads each snapshot once; what it reads
//! goes through the policy's title redaction and PII detectors before it is stored, and an event
//! that has no UI element (an app without an accessibility tree) gets one named after the text
//! nearest its target — `text 'Save'`, role `ocr` — so that the miner can tell its actions apart.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use uilog::{Element, Store};

use crate::error::{Error, Result};
use crate::privacy::Privacy;
use crate::snapshot::Grey;

/// Snapshots are enlarged this many times before OCR: Tesseract wants text taller than the
/// 10–12 px of a UI font.
pub const OCR_SCALE: u32 = 3;
/// Words Tesseract is less sure of than this (0–100) are ignored.
pub const MIN_CONFIDENCE: f32 = 30.0;
/// The longest element name OCR gives, in characters.
pub const LABEL_MAX: usize = 40;

/// One word OCR found, in the snapshot's own pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    /// (block, paragraph, line): words sharing it are on one line.
    pub line: (u32, u32, u32),
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
    pub confidence: f32,
}

/// Whether the `tesseract` command is there.
pub fn available() -> bool {
    Command::new("tesseract")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The words in a PNG image, in reading order.
pub fn read_words(png: &[u8]) -> Result<Vec<Word>> {
    let grey = Grey::from_png(png)?.grow(OCR_SCALE);
    let file = TempPng::write(&grey)?;
    // Sparse text finds a button's word among borders; a field's text inside its frame is found
    // only by page segmentation, so that is the second try.
    let words = tesseract(&file.0, "11")?;
    if words.is_empty() {
        return tesseract(&file.0, "3");
    }
    Ok(words)
}

fn tesseract(image: &Path, psm: &str) -> Result<Vec<Word>> {
    let out = Command::new("tesseract")
        .arg(image)
        .args(["stdout", "--psm", psm, "-l", "eng", "tsv"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::Snapshot(format!(
                "cannot run tesseract ({e}); install tesseract-ocr and tesseract-ocr-eng"
            ))
        })?;
    if !out.status.success() {
        return Err(Error::Snapshot(format!(
            "tesseract failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(parse_tsv(&String::from_utf8_lossy(&out.stdout), OCR_SCALE))
}

/// Tesseract's TSV: level 5 rows are words. Coordinates are divided by `scale`.
pub fn parse_tsv(tsv: &str, scale: u32) -> Vec<Word> {
    let s = scale.max(1) as i32;
    tsv.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() < 12 || f[0] != "5" {
                return None;
            }
            let n = |i: usize| f[i].trim().parse::<i32>().ok();
            // Widget borders read as `|`, `[` or `_`: they are no part of a word.
            let text = f[11]
                .trim()
                .trim_matches(|c: char| !c.is_alphanumeric() && !"'\".,:;!?-".contains(c));
            let confidence: f32 = f[10].trim().parse().ok()?;
            if !text.chars().any(char::is_alphanumeric) || confidence < MIN_CONFIDENCE {
                return None;
            }
            Some(Word {
                text: text.to_owned(),
                line: (n(2)? as u32, n(3)? as u32, n(4)? as u32),
                x: n(6)? / s,
                y: n(7)? / s,
                width: n(8)? / s,
                height: n(9)? / s,
                confidence,
            })
        })
        .collect()
}

/// All words, a line of text per OCR line.
pub fn text_of(words: &[Word]) -> String {
    let mut out = String::new();
    let mut last = None;
    for w in words {
        if last.is_some() {
            out.push(if last == Some(w.line) { ' ' } else { '\n' });
        }
        out.push_str(&w.text);
        last = Some(w.line);
    }
    out
}

/// The text of the line holding the word nearest `(x, y)` (the target: the middle of the
/// snapshot), at most [`LABEL_MAX`] characters.
pub fn label_at(words: &[Word], x: i32, y: i32) -> Option<String> {
    let dist = |w: &Word| {
        let dx = (x - (w.x + w.width / 2)).abs() - w.width / 2;
        let dy = (y - (w.y + w.height / 2)).abs() - w.height / 2;
        dx.max(0) + 2 * dy.max(0)
    };
    let nearest = words.iter().min_by_key(|w| dist(w))?;
    let line: Vec<&str> = words
        .iter()
        .filter(|w| w.line == nearest.line)
        .map(|w| w.text.as_str())
        .collect();
    let label: String = line.join(" ").chars().take(LABEL_MAX).collect();
    Some(label).filter(|l| l.chars().any(char::is_alphanumeric))
}

/// What an OCR pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OcrSummary {
    pub read: u64,
    /// Events that had no element and got one from the text.
    pub named: u64,
    pub failed: u64,
}

/// Reads every snapshot no pass has read yet. Text goes through `privacy` (title redaction and
/// PII detectors) before it is stored; element-less events get an element named by the text
/// at their target. A snapshot Tesseract cannot read is counted and left for the next pass.
pub fn ocr_pass(store: &mut Store, privacy: &Privacy) -> Result<OcrSummary> {
    let mut summary = OcrSummary::default();
    for snap in store.snapshots(true)? {
        let words = match read_words(&snap.png) {
            Ok(w) => w,
            Err(e @ Error::Snapshot(_)) if !available() => return Err(e),
            Err(_) => {
                summary.failed += 1;
                continue;
            }
        };
        let text = privacy.title(&text_of(&words));
        let element =
            label_at(&words, snap.width as i32 / 2, snap.height as i32 / 2).map(|l| Element {
                role: Some("ocr".into()),
                name: Some(format!("text '{}'", privacy.title(&l))),
                ..Element::default()
            });
        let had = store
            .connection()
            .query_row(
                "SELECT element_id IS NOT NULL FROM events WHERE id = ?1",
                [snap.event_id],
                |r| r.get::<_, bool>(0),
            )
            .unwrap_or(true);
        store.set_snapshot_text(snap.event_id, &text, element.as_ref())?;
        summary.read += 1;
        summary.named += u64::from(!had && element.is_some());
    }
    Ok(summary)
}

/// A PNG in the temporary directory, removed when dropped.
struct TempPng(PathBuf);

impl TempPng {
    fn write(grey: &Grey) -> Result<TempPng> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "taskmine-ocr-{}-{}.png",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let bytes = grey.to_png()?;
        write_private(&path, &bytes)?;
        Ok(TempPng(path))
    }
}

impl Drop for TempPng {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Screen content is private: the file is its owner's only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSV: &str = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext
1\t1\t0\t0\t0\t0\t0\t0\t600\t150\t-1\t
5\t1\t1\t1\t1\t1\t30\t30\t120\t30\t96.5\tFirst
5\t1\t1\t1\t1\t2\t160\t30\t90\t30\t95.0\tname
5\t1\t2\t1\t1\t1\t330\t90\t90\t30\t91.2\tSave
5\t1\t3\t1\t1\t1\t500\t90\t30\t30\t12.0\t~
5\t1\t2\t1\t1\t2\t300\t90\t9\t30\t93.0\t|
5\t1\t4\t1\t1\t1\t30\t120\t90\t30\t93.0\t|Clear
";

    #[test]
    fn tsv_words_lines_and_the_label_nearest_the_target() {
        let words = parse_tsv(TSV, 3);
        assert_eq!(
            words.len(),
            4,
            "the low-confidence word and the border are dropped"
        );
        assert_eq!(
            words[3].text, "Clear",
            "a border stuck to a word is cut off"
        );
        assert_eq!((words[2].x, words[2].y, words[2].width), (110, 30, 30));
        assert_eq!(text_of(&words), "First name\nSave\nClear");
        assert_eq!(label_at(&words, 120, 35).as_deref(), Some("Save"));
        assert_eq!(label_at(&words, 20, 12).as_deref(), Some("First name"));
        assert_eq!(label_at(&[], 0, 0), None);
    }
}
