//! Finding a step's target on the screen, for apps without an accessibility tree: by the words OCR
//! reads ([`find_text`]) and by the target's snapshot ([`find_image`], feature `x11`).
//!
//! Both answer with a unique match or with why there is none; neither guesses. A text match is
//! whole words, case-insensitive, in one line, read with at least [`TEXT_MIN_CONFIDENCE`], and the
//! only place those words are on the window. An image match is the zero-mean normalised
//! cross-correlation of the snapshot over the window image: at least [`IMAGE_MIN_SCORE`], and at
//! least [`IMAGE_MIN_MARGIN`] above the best place that does not overlap it.
//!
//! OCR is the recorder's ([`recorder::snapshot_ocr::read_words`]: Tesseract's CLI, the image
//! enlarged three times), so that replay reads a window the way the OCR pass read the snapshots.

use base64::Engine as _;
use recorder::snapshot::Grey;
use recorder::snapshot_ocr::Word;

/// Each word of a text match must have been read at least this sure (Tesseract's 0–100).
pub const TEXT_MIN_CONFIDENCE: f32 = 60.0;
/// The least correlation (−1…1) an image match needs.
pub const IMAGE_MIN_SCORE: f32 = 0.90;
/// How far the best image match must score above the best place that does not overlap it.
pub const IMAGE_MIN_MARGIN: f32 = 0.10;

/// How a bot file holds an image: a PNG as a data URI.
pub const DATA_URI_PNG: &str = "data:image/png;base64,";

/// A PNG as the data URI a bot file holds.
pub fn to_data_uri(png: &[u8]) -> String {
    format!(
        "{DATA_URI_PNG}{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

/// The PNG bytes of a data URI; the error says what is wrong with it.
pub fn png_of_data_uri(uri: &str) -> Result<Vec<u8>, String> {
    let b64 = uri
        .strip_prefix(DATA_URI_PNG)
        .ok_or_else(|| format!("must start with {DATA_URI_PNG:?}"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| format!("not valid base64: {e}"))?;
    if !bytes.starts_with(b"\x89PNG") {
        return Err("the data is not a PNG".into());
    }
    Ok(bytes)
}

/// A data URI's image as grey; the error says what is wrong with it.
pub fn grey_of_data_uri(uri: &str) -> Result<Grey, String> {
    let png = png_of_data_uri(uri)?;
    Grey::from_png(&png).map_err(|e| e.to_string())
}

/// Where a step's text was found: the box of its words, in the searched image's pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextHit {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
    /// The least confidence among its words.
    pub confidence: f32,
}

impl TextHit {
    pub fn centre(&self) -> (i32, i32) {
        (self.x + self.width / 2, self.y + self.height / 2)
    }
}

/// What a text search found.
#[derive(Debug, Clone, PartialEq)]
pub enum TextSearch {
    Unique(TextHit),
    /// No place has the words; what OCR read instead, for the message.
    Missing {
        read: Vec<String>,
    },
    /// The words are there but read less surely than [`TEXT_MIN_CONFIDENCE`].
    Unsure(TextHit),
    /// More than one place has the words.
    Ambiguous(Vec<TextHit>),
}

fn norm(w: &str) -> String {
    w.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

/// The words of a target text as they are compared.
pub fn text_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(norm)
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether `b` follows `a` on the same line of text: the same OCR line, or (sparse-text OCR puts
/// words in blocks of their own) overlapping rows and a gap no wider than about two letters.
fn follows(a: &Word, b: &Word) -> bool {
    if a.line == b.line {
        return true;
    }
    let overlap = (a.y + a.height).min(b.y + b.height) - a.y.max(b.y);
    let gap = b.x - (a.x + a.width);
    let h = a.height.max(b.height).max(1);
    overlap * 2 >= h && gap >= -h / 2 && gap <= 2 * h
}

/// Every place where `text`'s words stand in a row, whole words, case-insensitively.
pub fn find_text(words: &[Word], text: &str) -> TextSearch {
    let want = text_words(text);
    if want.is_empty() {
        return TextSearch::Missing { read: Vec::new() };
    }
    let normed: Vec<String> = words.iter().map(|w| norm(&w.text)).collect();
    let mut hits = Vec::new();
    for start in 0..words.len() {
        if normed[start] != want[0] {
            continue;
        }
        let mut run = vec![start];
        for next in &want[1..] {
            let last = &words[*run.last().expect("not empty")];
            // The next word is the nearest one to the right that follows on the same line.
            let cand = (0..words.len())
                .filter(|&j| !run.contains(&j) && follows(last, &words[j]))
                .min_by_key(|&j| (words[j].x - last.x).abs());
            match cand {
                Some(j) if normed[j] == *next => run.push(j),
                _ => break,
            }
        }
        if run.len() < want.len() {
            continue;
        }
        let x0 = run.iter().map(|&j| words[j].x).min().unwrap_or(0);
        let y0 = run.iter().map(|&j| words[j].y).min().unwrap_or(0);
        let x1 = run
            .iter()
            .map(|&j| words[j].x + words[j].width)
            .max()
            .unwrap_or(0);
        let y1 = run
            .iter()
            .map(|&j| words[j].y + words[j].height)
            .max()
            .unwrap_or(0);
        let confidence = run
            .iter()
            .map(|&j| words[j].confidence)
            .fold(f32::INFINITY, f32::min);
        hits.push(TextHit {
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
            confidence,
        });
    }
    match hits.len() {
        0 => TextSearch::Missing {
            read: words.iter().map(|w| w.text.clone()).collect(),
        },
        1 if hits[0].confidence >= TEXT_MIN_CONFIDENCE => TextSearch::Unique(hits[0]),
        1 => TextSearch::Unsure(hits[0]),
        _ => TextSearch::Ambiguous(hits),
    }
}

/// The words of a PNG (the recorder's OCR); the error is Tesseract's.
pub fn read_png(png: &[u8]) -> Result<Vec<Word>, String> {
    recorder::snapshot_ocr::read_words(png).map_err(|e| e.to_string())
}

/// The words of a grey image, read like a stored snapshot (16 grey levels, enlarged).
pub fn read_grey(g: &Grey) -> Result<Vec<Word>, String> {
    read_png(&g.to_png().map_err(|e| e.to_string())?)
}

/// The words of an image holding one line of text (a field and what is typed in it): Tesseract's
/// single-line mode, which reads text inside a field's frame that sparse-text mode skips.
pub fn read_line(g: &Grey) -> Result<Vec<Word>, String> {
    use recorder::snapshot_ocr::{parse_tsv, OCR_SCALE};
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let png = g.grow(OCR_SCALE).to_png().map_err(|e| e.to_string())?;
    let path = std::env::temp_dir().join(format!(
        "taskmine-replay-{}-{}.png",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    // Screen content is private: the file is its owner's only, and removed at once.
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let written = o
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &png));
    let out = written.and_then(|()| {
        std::process::Command::new("tesseract")
            .arg(&path)
            .args(["stdout", "--psm", "7", "-l", "eng", "tsv"])
            .stdin(std::process::Stdio::null())
            .output()
    });
    let _ = std::fs::remove_file(&path);
    let out = out.map_err(|e| format!("cannot run tesseract: {e}"))?;
    if !out.status.success() {
        return Err(format!("tesseract failed ({})", out.status));
    }
    Ok(parse_tsv(&String::from_utf8_lossy(&out.stdout), OCR_SCALE))
}

/// A text in a snapshot that can find its target again: a line read surely and only once, and
/// the offset from its centre to the snapshot's middle (where the target was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub text: String,
    pub dx: i32,
    pub dy: i32,
}

/// The lines of text in `words`: runs of words that follow each other (see [`find_text`]), each
/// from its leftmost word.
fn lines(words: &[Word]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..words.len()).collect();
    order.sort_by_key(|&i| (words[i].x, words[i].y));
    let mut used = vec![false; words.len()];
    let mut out = Vec::new();
    for &start in &order {
        if used[start] {
            continue;
        }
        used[start] = true;
        let mut line = vec![start];
        loop {
            let last = &words[*line.last().expect("not empty")];
            let next = (0..words.len())
                .filter(|&j| !used[j] && words[j].x > last.x && follows(last, &words[j]))
                .min_by_key(|&j| words[j].x);
            match next {
                Some(j) => {
                    used[j] = true;
                    line.push(j);
                }
                None => break,
            }
        }
        out.push(line);
    }
    out
}

/// The anchors of a snapshot of `width` × `height` with these words, nearest to its middle first
/// (a caption under the middle, then a label beside it; a row away counts double).
pub fn anchors(words: &[Word], width: u32, height: u32) -> Vec<Anchor> {
    let (mx, my) = (width as i32 / 2, height as i32 / 2);
    let mut found: Vec<(i32, Anchor)> = Vec::new();
    for line in lines(words) {
        let text = line
            .iter()
            .map(|&j| words[j].text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let TextSearch::Unique(hit) = find_text(words, &text) else {
            continue;
        };
        let (cx, cy) = hit.centre();
        let ex = ((mx - cx).abs() - hit.width / 2).max(0);
        let ey = ((my - cy).abs() - hit.height / 2).max(0);
        found.push((
            ex + 2 * ey,
            Anchor {
                text,
                dx: mx - cx,
                dy: my - cy,
            },
        ));
    }
    found.sort_by_key(|(d, _)| *d);
    found.into_iter().map(|(_, a)| a).collect()
}

/// How far an anchor's offset may differ between two snapshots of the same target, in pixels.
pub const ANCHOR_SLACK: i32 = 6;

/// The anchor a step's snapshots agree on: the same text at the same offset in at least two
/// thirds of them, so that a value typed into a field (different in each instance) is never the
/// anchor, only a label or a caption. Preferred: an anchor holding the words of `hint` (the name
/// the OCR pass gave the events), then the nearest. With one snapshot its nearest anchor.
pub fn agreed_anchor(per_snapshot: &[Vec<Anchor>], hint: Option<&str>) -> Option<Anchor> {
    let first = per_snapshot.first()?;
    let need = (per_snapshot.len() * 2).div_ceil(3);
    let hint = hint.map(text_words).unwrap_or_default();
    let holds_hint = |a: &Anchor| {
        let words = text_words(&a.text);
        !hint.is_empty() && hint.iter().all(|h| words.contains(h))
    };
    let mut order: Vec<&Anchor> = first.iter().collect();
    order.sort_by_key(|a| !holds_hint(a));
    order.into_iter().find_map(|a| {
        let want = text_words(&a.text);
        let agree = per_snapshot
            .iter()
            .filter(|anchors| {
                anchors.iter().any(|b| {
                    text_words(&b.text) == want
                        && (a.dx - b.dx).abs() <= ANCHOR_SLACK
                        && (a.dy - b.dy).abs() <= ANCHOR_SLACK
                })
            })
            .count();
        (agree >= need).then(|| a.clone())
    })
}

/// The best place of an image in a larger one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageHit {
    /// Top-left corner of the match, in the searched image's pixels.
    pub x: i32,
    pub y: i32,
    pub score: f32,
    /// The best score of a place that does not overlap this one (−1 when there is none).
    pub second: f32,
}

/// Where a target's image was found: the screen point of the target (the image's middle) in the
/// searched image's pixels, and how well it matched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageSight {
    pub x: i32,
    pub y: i32,
    pub score: f32,
    pub second: f32,
    /// `whole` image, or its `middle` (half its width and height around the target).
    pub part: &'static str,
}

/// The part of `g` of `w` × `h` around its middle.
pub fn middle(g: &Grey, w: u32, h: u32) -> Grey {
    let (w, h) = (w.min(g.width), h.min(g.height));
    crop(g, (g.width - w) / 2, (g.height - h) / 2, w, h)
}

/// The part of `g` from (`x0`, `y0`), at most `w` × `h` (cut at the image's edges).
pub fn crop(g: &Grey, x0: u32, y0: u32, w: u32, h: u32) -> Grey {
    let x0 = x0.min(g.width);
    let y0 = y0.min(g.height);
    let (w, h) = (w.min(g.width - x0), h.min(g.height - y0));
    let mut pixels = Vec::with_capacity((w * h) as usize);
    for y in y0..y0 + h {
        let row = (y * g.width + x0) as usize;
        pixels.extend_from_slice(&g.pixels[row..row + w as usize]);
    }
    Grey {
        width: w,
        height: h,
        pixels,
    }
}

/// Finds a target by its snapshot in `hay`: the whole snapshot first; where that does not match,
/// its middle half, since a snapshot taken near a window's edge holds pixels from beyond the window
/// that moved on with the desktop. Each try must score [`IMAGE_MIN_SCORE`] and lead the best
/// place not overlapping it by [`IMAGE_MIN_MARGIN`]; the error says how every try fell short.
#[cfg(feature = "x11")]
pub fn locate_image(hay: &Grey, needle: &Grey) -> Result<ImageSight, String> {
    let mut tries = vec![("whole", needle.clone())];
    if needle.width >= 32 && needle.height >= 24 {
        tries.push((
            "middle",
            middle(needle, needle.width / 2, needle.height / 2),
        ));
    }
    let mut why = Vec::new();
    for (part, n) in &tries {
        let Some(hit) = find_image(hay, n) else {
            why.push(format!(
                "the {part} ({}x{}) is no smaller than the window ({}x{}) or has no contrast",
                n.width, n.height, hay.width, hay.height
            ));
            continue;
        };
        let (x, y) = (hit.x + n.width as i32 / 2, hit.y + n.height as i32 / 2);
        let summary = format!(
            "the {part} scores {:.3} at ({x},{y}) in the window, the best other place {:.3}",
            hit.score, hit.second
        );
        if hit.score < IMAGE_MIN_SCORE {
            why.push(format!("{summary} (at least {IMAGE_MIN_SCORE:.2} needed)"));
        } else if hit.score - hit.second < IMAGE_MIN_MARGIN {
            why.push(format!(
                "{summary}: ambiguous (a lead of {IMAGE_MIN_MARGIN:.2} needed)"
            ));
        } else {
            return Ok(ImageSight {
                x,
                y,
                score: hit.score,
                second: hit.second,
                part,
            });
        }
    }
    Err(format!(
        "the target's image is not found once: {}",
        why.join("; ")
    ))
}

#[cfg(feature = "x11")]
pub use matching::find_image;

#[cfg(feature = "x11")]
mod matching {
    use imageproc::image::{GrayImage, Luma};
    use imageproc::integral_image::{integral_image, integral_squared_image, sum_image_pixels};
    use imageproc::template_matching::{match_template, MatchTemplateMethod};
    use recorder::snapshot::Grey;

    use super::ImageHit;

    fn gray(g: &Grey) -> GrayImage {
        GrayImage::from_raw(g.width, g.height, g.pixels.clone()).expect("width × height pixels")
    }

    /// Zero-mean normalised cross-correlation of `t` at every place in `i`, row by row
    /// (`(iw − tw + 1) × (ih − th + 1)` scores). imageproc's `match_template` gives the plain
    /// cross-correlation Σ I·T; the means and deviations of each window come from integral
    /// images: ZNCC = (Σ I·T − n·Ī·T̄) / (n·σ_I·σ_T). A window without contrast scores 0.
    fn zncc(i: &GrayImage, t: &GrayImage) -> (u32, u32, Vec<f32>) {
        let (tw, th) = t.dimensions();
        let n = f64::from(tw * th);
        let t_sum: f64 = t.pixels().map(|p| f64::from(p[0])).sum();
        let t_sq: f64 = t.pixels().map(|p| f64::from(p[0]).powi(2)).sum();
        let t_var = t_sq - t_sum * t_sum / n;
        let cc = match_template(i, t, MatchTemplateMethod::CrossCorrelation);
        let (w, h) = cc.dimensions();
        let sum = integral_image::<Luma<u8>, u64>(i);
        let sq = integral_squared_image::<Luma<u8>, u64>(i);
        let mut out = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                let s = sum_image_pixels(&sum, x, y, x + tw - 1, y + th - 1)[0] as f64;
                let s2 = sum_image_pixels(&sq, x, y, x + tw - 1, y + th - 1)[0] as f64;
                let i_var = s2 - s * s / n;
                let num = f64::from(cc.get_pixel(x, y)[0]) - s * t_sum / n;
                // Less than one grey level of deviation per pixel: flat, nothing to compare.
                let score = if i_var < n || t_var < n {
                    0.0
                } else {
                    (num / (i_var * t_var).sqrt()).clamp(-1.0, 1.0)
                };
                out.push(score as f32);
            }
        }
        (w, h, out)
    }

    /// The best place and the best one not overlapping it by more than half the template.
    fn best_two(w: u32, scores: &[f32], tw: u32, th: u32) -> Option<((u32, u32, f32), f32)> {
        let (k, &best) = scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        let (bx, by) = (k as u32 % w, k as u32 / w);
        let second = scores
            .iter()
            .enumerate()
            .filter(|(j, _)| {
                let (x, y) = (*j as u32 % w, *j as u32 / w);
                x.abs_diff(bx) * 2 > tw || y.abs_diff(by) * 2 > th
            })
            .map(|(_, s)| *s)
            .fold(-1.0f32, f32::max);
        Some(((bx, by, best), second))
    }

    /// The full-resolution score near a coarse place: the best within `r` pixels of `(x, y)`.
    fn refine(hay: &Grey, needle: &GrayImage, x: u32, y: u32, r: u32) -> (u32, u32, f32) {
        let x0 = x.saturating_sub(r);
        let y0 = y.saturating_sub(r);
        let x1 = (x + r + needle.width()).min(hay.width);
        let y1 = (y + r + needle.height()).min(hay.height);
        let mut part = GrayImage::new(x1 - x0, y1 - y0);
        for yy in y0..y1 {
            for xx in x0..x1 {
                let p = hay.pixels[(yy * hay.width + xx) as usize];
                part.put_pixel(xx - x0, yy - y0, Luma([p]));
            }
        }
        if part.width() < needle.width() || part.height() < needle.height() {
            return (x, y, -1.0);
        }
        let (w, _, scores) = zncc(&part, needle);
        let (k, &s) = scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap_or((0, &-1.0));
        (x0 + k as u32 % w, y0 + k as u32 / w, s)
    }

    /// Where `needle` (a step's snapshot) best fits in `hay` (the window), with the runner-up's
    /// score. Searched at half resolution over the whole window, then both candidates are scored
    /// again at full resolution around their places. `None` when the needle is larger than the
    /// window or has no contrast.
    pub fn find_image(hay: &Grey, needle: &Grey) -> Option<ImageHit> {
        if needle.width >= hay.width || needle.height >= hay.height || needle.width < 4 {
            return None;
        }
        let f = if needle.width >= 32 && needle.height >= 16 {
            2
        } else {
            1
        };
        let (hs, ns) = (hay.shrink(f), needle.shrink(f));
        let (w, _, scores) = zncc(&gray(&hs), &gray(&ns));
        let ((bx, by, best), second) = best_two(w, &scores, ns.width, ns.height)?;
        if best <= 0.0 {
            return None;
        }
        let full = gray(needle);
        let (x, y, score) = refine(hay, &full, bx * f, by * f, f + 1);
        // The runner-up at full resolution too, where it is not the same place.
        let second = if second > -1.0 {
            let k = scores
                .iter()
                .enumerate()
                .filter(|(j, _)| {
                    let (x, y) = (*j as u32 % w, *j as u32 / w);
                    x.abs_diff(bx) * 2 > ns.width || y.abs_diff(by) * 2 > ns.height
                })
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(j, _)| j as u32);
            match k {
                Some(k) => refine(hay, &full, (k % w) * f, (k / w) * f, f + 1).2,
                None => -1.0,
            }
        } else {
            -1.0
        };
        Some(ImageHit {
            x: x as i32,
            y: y as i32,
            score,
            second,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, line: u32, x: i32, y: i32, confidence: f32) -> Word {
        Word {
            text: text.into(),
            line: (line, 1, 1),
            x,
            y,
            width: 10 * text.len() as i32,
            height: 14,
            confidence,
        }
    }

    #[test]
    fn text_is_found_as_whole_words_in_a_row_and_only_once() {
        let words = vec![
            word("First", 1, 10, 10, 95.0),
            // Sparse OCR may put the second word in a block of its own: still the same row.
            word("name", 2, 66, 11, 93.0),
            word("Last", 3, 10, 50, 96.0),
            word("name:", 3, 56, 50, 94.0),
            word("Saved", 4, 10, 90, 90.0),
            word("SAVE", 5, 200, 90, 91.0),
        ];
        match find_text(&words, "first NAME") {
            TextSearch::Unique(h) => {
                assert_eq!((h.x, h.y, h.width), (10, 10, 96));
                assert_eq!(h.confidence, 93.0);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            find_text(&words, "Last name"),
            TextSearch::Unique(_)
        ));
        // "Saved" is not the word "Save"; "SAVE" is, whatever its case.
        match find_text(&words, "Save") {
            TextSearch::Unique(h) => assert_eq!(h.x, 200),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            find_text(&words, "name"),
            TextSearch::Ambiguous(h) if h.len() == 2
        ));
        match find_text(&words, "Delete") {
            TextSearch::Missing { read } => assert!(read.contains(&"SAVE".to_owned())),
            other => panic!("{other:?}"),
        }
        // Words far apart on a row are not one text.
        let apart = vec![
            word("First", 1, 10, 10, 95.0),
            word("name", 2, 300, 10, 95.0),
        ];
        assert!(matches!(
            find_text(&apart, "First name"),
            TextSearch::Missing { .. }
        ));
        let unsure = vec![word("Save", 1, 10, 10, 41.0)];
        assert!(matches!(find_text(&unsure, "Save"), TextSearch::Unsure(_)));
    }

    #[test]
    fn the_anchor_is_the_text_every_snapshot_has_at_the_same_place() {
        // A field clicked at (200, 80) of a 400 × 160 snapshot: its label left of it, the value
        // typed in the field above it (another in each instance) and a button far below.
        let snap = |value: &str, shift: i32| {
            vec![
                word("First", 1, 40, 74, 95.0),
                word("name", 2, 96, 75, 94.0),
                word(value, 3, 170 + shift, 40, 92.0),
                word("Save", 4, 180, 140, 96.0),
            ]
        };
        let a = anchors(&snap("Ada", 0), 400, 160);
        assert_eq!(a[0].text, "Ada", "the value is nearest: {a:?}");
        assert_eq!(a[1].text, "First name", "{a:?}");
        assert_eq!((a[1].dx, a[1].dy), (200 - 88, 80 - 81));
        let all: Vec<Vec<Anchor>> = [("Ada", 0), ("Grace", 3), ("Alan", -2)]
            .iter()
            .map(|(v, s)| anchors(&snap(v, *s), 400, 160))
            .collect();
        let chosen = agreed_anchor(&all, None).unwrap();
        assert_eq!(chosen.text, "First name", "values differ, labels stay");
        assert_eq!(agreed_anchor(&all, Some("Save")).unwrap().text, "Save");
        assert_eq!(agreed_anchor(&all[..1], None).unwrap().text, "Ada");
        assert_eq!(agreed_anchor(&[], None), None);
    }

    #[test]
    fn images_travel_as_png_data_uris() {
        let g = Grey {
            width: 3,
            height: 2,
            pixels: vec![0, 255, 0, 255, 0, 255],
        };
        let png = g.to_png().unwrap();
        let uri = to_data_uri(&png);
        assert!(uri.starts_with("data:image/png;base64,iVBOR"), "{uri}");
        assert_eq!(png_of_data_uri(&uri).unwrap(), png);
        assert_eq!(grey_of_data_uri(&uri).unwrap().width, 3);
        assert!(png_of_data_uri("data:image/gif;base64,R0lG")
            .unwrap_err()
            .contains("must start with"));
        assert!(png_of_data_uri("data:image/png;base64,%%%")
            .unwrap_err()
            .contains("base64"));
        assert!(png_of_data_uri("data:image/png;base64,aGVsbG8=")
            .unwrap_err()
            .contains("not a PNG"));
    }

    /// A synthetic window: a light background with a few distinct dark shapes.
    #[cfg(feature = "x11")]
    fn window() -> Grey {
        let (w, h) = (200u32, 120u32);
        let mut pixels = vec![230u8; (w * h) as usize];
        let mut rect = |x0: u32, y0: u32, rw: u32, rh: u32, v: u8| {
            for y in y0..y0 + rh {
                for x in x0..x0 + rw {
                    pixels[(y * w + x) as usize] = v;
                }
            }
        };
        // Two look-alike buttons and one with an extra mark.
        rect(20, 20, 40, 20, 40);
        rect(30, 26, 20, 8, 200);
        rect(120, 20, 40, 20, 40);
        rect(130, 26, 20, 8, 200);
        rect(70, 80, 40, 20, 40);
        rect(76, 84, 6, 12, 240);
        rect(96, 84, 8, 6, 240);
        Grey {
            width: w,
            height: h,
            pixels,
        }
    }

    #[cfg(feature = "x11")]
    #[test]
    fn an_image_is_found_where_it_is_unique_and_look_alikes_leave_no_margin() {
        let win = window();
        let unique = crop(&win, 64, 74, 52, 32);
        let hit = find_image(&win, &unique).unwrap();
        assert_eq!((hit.x, hit.y), (64, 74), "{hit:?}");
        assert!(hit.score > 0.99, "{hit:?}");
        assert!(hit.score - hit.second >= IMAGE_MIN_MARGIN, "{hit:?}");
        // One of two identical buttons: a perfect score, and a runner-up just as good.
        let twin = crop(&win, 14, 14, 52, 32);
        let hit = find_image(&win, &twin).unwrap();
        assert!(hit.score > 0.99 && hit.second > 0.99, "{hit:?}");
        // Moved by some pixels inside a larger window: still found, at its new place.
        let mut moved = Grey {
            width: 260,
            height: 160,
            pixels: vec![230; 260 * 160],
        };
        for y in 0..win.height {
            for x in 0..win.width {
                moved.pixels[((y + 17) * 260 + x + 33) as usize] =
                    win.pixels[(y * win.width + x) as usize];
            }
        }
        let hit = find_image(&moved, &unique).unwrap();
        assert_eq!((hit.x, hit.y), (64 + 33, 74 + 17), "{hit:?}");
        // A flat needle, or one larger than the window, is no search.
        let flat = crop(&win, 0, 0, 20, 10);
        assert_eq!(find_image(&win, &flat), None);
        assert_eq!(find_image(&unique, &win), None);
    }

    #[cfg(feature = "x11")]
    #[test]
    fn a_snapshot_beyond_the_window_edge_is_found_by_its_middle_and_twins_are_refused() {
        let win = window();
        // Taken at the window's right edge: its right third showed a black desktop.
        let mut edge = crop(&win, 50, 66, 64, 40);
        for y in 0..edge.height {
            for x in 48..edge.width {
                edge.pixels[(y * edge.width + x) as usize] = 0;
            }
        }
        assert!(find_image(&win, &edge).unwrap().score < IMAGE_MIN_SCORE);
        let seen = locate_image(&win, &edge).unwrap();
        assert_eq!(seen.part, "middle");
        assert_eq!((seen.x, seen.y), (50 + 32, 66 + 20), "{seen:?}");
        // One of two identical buttons: no place leads, so nothing is found.
        let e = locate_image(&win, &crop(&win, 14, 14, 52, 32)).unwrap_err();
        assert!(e.contains("ambiguous"), "{e}");
        assert_eq!(middle(&win, 10, 4).pixels.len(), 40);
    }
}
