//! Screen snapshots of an event's target, under the policy's `screenshots` setting.
//!
//! A click or the start of a typed run asks for one ([`crate::pipeline::SnapRequest`], made only
//! where [`crate::Privacy::snapshot_plan`] allows it). A worker thread (feature `x11`) takes the
//! crop from the X server with `GetImage` — the element's extents where the accessibility bus
//! gives them, else a fixed box around the pointer, never the full screen — blanks every text
//! field the policy masks and every password field, turns it to 16 grey levels and stores it as
//! PNG. The input path only hands a request to a bounded queue: when the worker is behind, the
//! request is dropped and counted, never waited for.
//!
//! Fail closed: a snapshot whose fields must be blanked but whose fields cannot be read from the
//! accessibility bus (no bus, a lookup that failed or ran out of time) is not taken.

use std::io::Cursor;

use crate::error::{Error, Result};
use crate::privacy::Screenshots;

/// A rectangle on the screen, in pixels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Area {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

impl Area {
    pub fn intersect(&self, o: &Area) -> Option<Area> {
        let x0 = self.x.max(o.x);
        let y0 = self.y.max(o.y);
        let x1 = (self.x + self.width).min(o.x + o.width);
        let y1 = (self.y + self.height).min(o.y + o.height);
        (x1 > x0 && y1 > y0).then(|| Area {
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
        })
    }

    fn centered(cx: i32, cy: i32, width: i32, height: i32) -> Area {
        Area {
            x: cx - width / 2,
            y: cy - height / 2,
            width,
            height,
        }
    }
}

/// The box around the pointer when no element extents are known (`elements` mode).
pub const POINTER_BOX: (i32, i32) = (240, 56);
/// The box around the target in `on` mode.
pub const CONTEXT_BOX: (i32, i32) = (400, 160);
/// The largest crop before downscaling; a larger element is cut to this around the target point.
pub const MAX_CROP: (i32, i32) = (480, 200);
/// Stored images are at most this wide: wider crops are shrunk by a whole factor.
pub const MAX_WIDTH: i32 = 400;

/// What part of the screen to take for a target at `point` whose element (if known) covers
/// `extents`, on a screen of `screen` size. Always inside the screen and never larger than
/// [`MAX_CROP`]; `None` only for an empty screen.
pub fn crop_area(
    mode: Screenshots,
    point: (i32, i32),
    extents: Option<Area>,
    screen: (i32, i32),
) -> Option<Area> {
    let screen_area = Area {
        x: 0,
        y: 0,
        width: screen.0,
        height: screen.1,
    };
    // An element that does not hold the point (a stale answer, a window that moved) is not the
    // target: the pointer is.
    let extents = extents.filter(|e| {
        e.width > 0
            && e.height > 0
            && point.0 >= e.x
            && point.1 >= e.y
            && point.0 < e.x + e.width
            && point.1 < e.y + e.height
    });
    let area = match (mode, extents) {
        (Screenshots::Elements, Some(e)) => Area {
            x: e.x - 6,
            y: e.y - 6,
            width: e.width + 12,
            height: e.height + 12,
        },
        (Screenshots::On, Some(e)) => {
            let (cx, cy) = (e.x + e.width / 2, e.y + e.height / 2);
            Area::centered(
                cx,
                cy,
                CONTEXT_BOX.0.max(e.width + 12),
                CONTEXT_BOX.1.max(e.height + 12),
            )
        }
        (Screenshots::On, None) => Area::centered(point.0, point.1, CONTEXT_BOX.0, CONTEXT_BOX.1),
        _ => Area::centered(point.0, point.1, POINTER_BOX.0, POINTER_BOX.1),
    };
    // Too large: the part around the point.
    let area = if area.width > MAX_CROP.0 || area.height > MAX_CROP.1 {
        let w = area.width.min(MAX_CROP.0);
        let h = area.height.min(MAX_CROP.1);
        let cx = point.0.clamp(area.x + w / 2, area.x + area.width - w / 2);
        let cy = point.1.clamp(area.y + h / 2, area.y + area.height - h / 2);
        Area::centered(cx, cy, w, h)
    } else {
        area
    };
    // Shifted back onto the screen rather than cut, so that a target near an edge keeps its size.
    let x = area.x.clamp(0, (screen.0 - area.width).max(0));
    let y = area.y.clamp(0, (screen.1 - area.height).max(0));
    Area { x, y, ..area }.intersect(&screen_area)
}

/// A grey image, one byte per pixel, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grey {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// The grey of what blanked fields are filled with: visibly not the field's own white.
pub const BLANK: u8 = 0xc0;

impl Grey {
    /// From a `GetImage` Z-pixmap of 32 bits per pixel (B, G, R, pad in LSB-first order, as
    /// Xvfb and common X servers give at depth 24), `stride` bytes per row.
    pub fn from_bgrx(width: u32, height: u32, stride: usize, data: &[u8]) -> Result<Grey> {
        let need = stride * (height as usize);
        if stride < width as usize * 4 || data.len() < need {
            return Err(Error::Snapshot(format!(
                "screen image of {width}x{height} has {} bytes, expected {need}",
                data.len()
            )));
        }
        let mut pixels = Vec::with_capacity((width * height) as usize);
        for row in data.chunks(stride).take(height as usize) {
            for px in row[..width as usize * 4].chunks_exact(4) {
                let (b, g, r) = (u32::from(px[0]), u32::from(px[1]), u32::from(px[2]));
                // ITU-R BT.601 luma in integers.
                pixels.push(((r * 299 + g * 587 + b * 114) / 1000) as u8);
            }
        }
        Ok(Grey {
            width,
            height,
            pixels,
        })
    }

    /// Fills `area` (in the image's own coordinates) with [`BLANK`].
    pub fn blank(&mut self, area: &Area) {
        let whole = Area {
            x: 0,
            y: 0,
            width: self.width as i32,
            height: self.height as i32,
        };
        let Some(a) = area.intersect(&whole) else {
            return;
        };
        for y in a.y..a.y + a.height {
            let start = y as usize * self.width as usize + a.x as usize;
            self.pixels[start..start + a.width as usize].fill(BLANK);
        }
    }

    /// Shrinks by a whole factor (the mean of each `f`×`f` block).
    pub fn shrink(&self, f: u32) -> Grey {
        if f <= 1 {
            return self.clone();
        }
        let (w, h) = (self.width / f, self.height / f);
        let mut pixels = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                let mut sum = 0u32;
                for dy in 0..f {
                    let row = ((y * f + dy) * self.width) as usize;
                    for dx in 0..f {
                        sum += u32::from(self.pixels[row + (x * f + dx) as usize]);
                    }
                }
                pixels.push((sum / (f * f)) as u8);
            }
        }
        Grey {
            width: w,
            height: h,
            pixels,
        }
    }

    /// Grows by a whole factor (each pixel becomes an `f`×`f` block), for OCR of small text.
    pub fn grow(&self, f: u32) -> Grey {
        let f = f.max(1);
        let (w, h) = (self.width * f, self.height * f);
        let mut pixels = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            let row = ((y / f) * self.width) as usize;
            for x in 0..w {
                pixels.push(self.pixels[row + (x / f) as usize]);
            }
        }
        Grey {
            width: w,
            height: h,
            pixels,
        }
    }

    /// PNG with 16 grey levels: UI text stays readable (for people and for OCR) at a fraction of
    /// the bytes of 256 levels.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let png_err = |e: png::EncodingError| Error::Snapshot(format!("PNG encoding failed: {e}"));
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, self.width, self.height);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Four);
        enc.set_compression(png::Compression::High);
        let mut writer = enc.write_header().map_err(png_err)?;
        let row_bytes = (self.width as usize).div_ceil(2);
        let mut packed = vec![0u8; row_bytes * self.height as usize];
        for (y, row) in self.pixels.chunks(self.width as usize).enumerate() {
            for (x, &p) in row.iter().enumerate() {
                let level = p >> 4;
                let byte = &mut packed[y * row_bytes + x / 2];
                *byte |= if x % 2 == 0 { level << 4 } else { level };
            }
        }
        writer.write_image_data(&packed).map_err(png_err)?;
        writer.finish().map_err(png_err)?;
        Ok(out)
    }

    /// Reads a PNG (any depth or colour type) back as grey.
    pub fn from_png(bytes: &[u8]) -> Result<Grey> {
        let png_err = |e: png::DecodingError| Error::Snapshot(format!("not a readable PNG: {e}"));
        let mut dec = png::Decoder::new(Cursor::new(bytes));
        dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = dec.read_info().map_err(png_err)?;
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| Error::Snapshot("PNG too large".into()))?;
        let mut buf = vec![0u8; size];
        let info = reader.next_frame(&mut buf).map_err(png_err)?;
        let channels = info.color_type.samples();
        let (w, h) = (info.width, info.height);
        let mut pixels = Vec::with_capacity((w * h) as usize);
        for row in buf.chunks(info.line_size).take(h as usize) {
            for px in row[..w as usize * channels].chunks_exact(channels) {
                pixels.push(if channels >= 3 {
                    ((u32::from(px[0]) * 299 + u32::from(px[1]) * 587 + u32::from(px[2]) * 114)
                        / 1000) as u8
                } else {
                    px[0]
                });
            }
        }
        Ok(Grey {
            width: w,
            height: h,
            pixels,
        })
    }
}

/// The whole factor that brings `width` to at most [`MAX_WIDTH`].
pub fn shrink_factor(width: u32) -> u32 {
    width.div_ceil(MAX_WIDTH as u32).max(1)
}

#[cfg(feature = "x11")]
pub use worker::{start_worker, Snapped, SnapshotStats, Worker};

#[cfg(feature = "x11")]
mod worker {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
    use std::sync::Arc;
    use std::time::Duration;

    use desktop::{A11y, Found, WindowQuery};
    use uilog::{EventKind, Micros};
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, ImageFormat, ImageOrder};
    use x11rb::rust_connection::RustConnection;

    use super::{crop_area, shrink_factor, Area, Grey};
    use crate::error::{Error, Result};
    use crate::pipeline::{SnapRequest, Target};
    use crate::privacy::Privacy;

    /// How many requests may wait for the worker; more are dropped (and counted).
    pub const QUEUE: usize = 8;
    /// A request older than this shows a screen that has moved on: skipped.
    const STALE_US: Micros = 1_000_000;
    /// Time budget of each accessibility call the worker makes.
    const BUDGET: Duration = Duration::from_millis(250);

    /// A snapshot taken, waiting to be attached to its event once that is written.
    #[derive(Debug, Clone)]
    pub struct Snapped {
        pub ts: Micros,
        pub kinds: &'static [EventKind],
        pub png: Vec<u8>,
        pub width: u32,
        pub height: u32,
    }

    /// Counts a recording reports.
    #[derive(Debug, Default)]
    pub struct SnapshotStats {
        pub requested: AtomicU64,
        pub taken: AtomicU64,
        /// The queue was full: the worker was behind.
        pub dropped: AtomicU64,
        /// Too old by the time the worker got to them.
        pub stale: AtomicU64,
        /// Not taken because a field that must be blanked could not be located.
        pub refused: AtomicU64,
        pub failed: AtomicU64,
        pub stored: AtomicU64,
        pub stored_bytes: AtomicU64,
    }

    impl SnapshotStats {
        pub fn get(v: &AtomicU64) -> u64 {
            v.load(Ordering::Relaxed)
        }
    }

    /// The capture loop's end of the worker.
    pub struct Worker {
        requests: SyncSender<SnapRequest>,
        pub done: Receiver<Snapped>,
        pub stats: Arc<SnapshotStats>,
    }

    impl Worker {
        /// Hands a request over without waiting: a full queue drops it.
        pub fn request(&self, r: SnapRequest) {
            self.stats.requested.fetch_add(1, Ordering::Relaxed);
            match self.requests.try_send(r) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Starts the snapshot thread with its own X connection and, when `elements`, its own
    /// accessibility connection. `privacy` is a second copy of the recording's policy.
    pub fn start_worker(privacy: Privacy, elements: bool) -> Result<Worker> {
        let (conn, screen_num) = RustConnection::connect(None)
            .map_err(|e| Error::X11(format!("snapshots: cannot connect to X: {e}")))?;
        let (tx, rx) = mpsc::sync_channel::<SnapRequest>(QUEUE);
        let (done_tx, done) = mpsc::channel();
        let stats = Arc::new(SnapshotStats::default());
        let st = Arc::clone(&stats);
        std::thread::Builder::new()
            .name("snapshots".into())
            .spawn(move || {
                let a11y = if elements { A11y::connect().ok() } else { None };
                let shooter = Shooter {
                    conn,
                    screen_num,
                    a11y,
                    privacy,
                };
                for r in rx {
                    if now_micros() - r.ts > STALE_US {
                        st.stale.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    match shooter.take(&r) {
                        Ok(Some(s)) => {
                            st.taken.fetch_add(1, Ordering::Relaxed);
                            if done_tx.send(s).is_err() {
                                return;
                            }
                        }
                        Ok(None) => {
                            st.refused.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            st.failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
            .map_err(|e| Error::X11(format!("cannot start the snapshot thread: {e}")))?;
        Ok(Worker {
            requests: tx,
            done,
            stats,
        })
    }

    struct Shooter {
        conn: RustConnection,
        screen_num: usize,
        a11y: Option<A11y>,
        privacy: Privacy,
    }

    fn area(f: &Found) -> Area {
        Area {
            x: f.extents.x,
            y: f.extents.y,
            width: f.extents.width,
            height: f.extents.height,
        }
    }

    impl Shooter {
        /// One snapshot; `Ok(None)` when the policy's blanking cannot be guaranteed.
        fn take(&self, r: &SnapRequest) -> Result<Option<Snapped>> {
            let x_err = |e: &dyn std::fmt::Display| Error::X11(format!("snapshot: {e}"));
            let screen = &self.conn.setup().roots[self.screen_num];
            let root = screen.root;
            let size = (
                i32::from(screen.width_in_pixels),
                i32::from(screen.height_in_pixels),
            );
            let window = WindowQuery {
                pid: r.pid,
                title: None,
            };
            let target = match (&self.a11y, r.target) {
                (Some(a), Target::At { x, y }) => a.element_at_in(&window, x, y, BUDGET),
                (Some(a), Target::Focused) => a.focused_in(&window, BUDGET),
                (None, _) => Ok(None),
            };
            let target = match target {
                Ok(t) => t,
                Err(_) if r.plan.blank_fields => return Ok(None),
                Err(_) => None,
            };
            let point = match (r.target, &target) {
                (Target::At { x, y }, _) => (x, y),
                (Target::Focused, Some(f)) => f.extents.center(),
                (Target::Focused, None) => {
                    let p = self
                        .conn
                        .query_pointer(root)
                        .map_err(|e| x_err(&e))?
                        .reply()
                        .map_err(|e| x_err(&e))?;
                    (i32::from(p.root_x), i32::from(p.root_y))
                }
            };
            let Some(crop) = crop_area(r.plan.mode, point, target.as_ref().map(area), size) else {
                return Ok(None);
            };
            // The fields to blank, before the pixels are read: a field that cannot be located
            // where one must be blanked means no snapshot.
            let mut blanks = Vec::new();
            if let Some(a) = &self.a11y {
                let plan = r.plan;
                let privacy = &self.privacy;
                let fields = a.find(
                    &window,
                    &|e| privacy.blanks_in_snapshot(&plan, e, false) || is_entry(e),
                    BUDGET,
                );
                match fields {
                    Ok(found) => blanks.extend(
                        found
                            .iter()
                            .filter(|f| privacy.blanks_in_snapshot(&plan, &f.element, f.password))
                            .map(area),
                    ),
                    Err(_) => return Ok(None),
                }
                if let Some(t) = &target {
                    if privacy.blanks_in_snapshot(&plan, &t.element, t.password) {
                        blanks.push(area(t));
                    }
                }
            }
            let image = self
                .conn
                .get_image(
                    ImageFormat::Z_PIXMAP,
                    root,
                    crop.x as i16,
                    crop.y as i16,
                    crop.width as u16,
                    crop.height as u16,
                    !0,
                )
                .map_err(|e| x_err(&e))?
                .reply()
                .map_err(|e| x_err(&e))?;
            let setup = self.conn.setup();
            let format = setup
                .pixmap_formats
                .iter()
                .find(|f| f.depth == image.depth)
                .ok_or_else(|| x_err(&format!("no pixmap format for depth {}", image.depth)))?;
            if format.bits_per_pixel != 32 || setup.image_byte_order != ImageOrder::LSB_FIRST {
                return Err(x_err(&format!(
                    "{} bits per pixel, byte order {:?}: not supported",
                    format.bits_per_pixel, setup.image_byte_order
                )));
            }
            let pad = usize::from(format.scanline_pad) / 8;
            let stride = (crop.width as usize * 4).div_ceil(pad.max(1)) * pad.max(1);
            let mut grey =
                Grey::from_bgrx(crop.width as u32, crop.height as u32, stride, &image.data)?;
            for b in &blanks {
                grey.blank(&Area {
                    x: b.x - crop.x,
                    y: b.y - crop.y,
                    ..*b
                });
            }
            let grey = grey.shrink(shrink_factor(grey.width));
            let png = grey.to_png()?;
            Ok(Some(Snapped {
                ts: r.ts,
                kinds: r.kinds,
                png,
                width: grey.width,
                height: grey.height,
            }))
        }
    }

    /// Editable text by role, whether or not the policy blanks it: the search keeps these so that
    /// a password field the role alone does not name is still seen with its desktop verdict.
    fn is_entry(e: &uilog::Element) -> bool {
        matches!(
            e.role.as_deref(),
            Some("entry" | "text" | "password text" | "terminal")
        )
    }

    fn now_micros() -> Micros {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as Micros)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_stay_on_screen_and_small() {
        let screen = (1280, 1024);
        let e = Area {
            x: 100,
            y: 200,
            width: 160,
            height: 30,
        };
        let a = crop_area(Screenshots::Elements, (150, 210), Some(e), screen).unwrap();
        assert_eq!((a.x, a.y, a.width, a.height), (94, 194, 172, 42));
        // An element that does not hold the point is not used.
        let a = crop_area(Screenshots::Elements, (600, 600), Some(e), screen).unwrap();
        assert_eq!((a.width, a.height), POINTER_BOX);
        assert_eq!((a.x + a.width / 2, a.y + a.height / 2), (600, 600));
        // Near the corner the box shifts onto the screen instead of shrinking.
        let a = crop_area(Screenshots::On, (3, 1020), None, screen).unwrap();
        assert_eq!((a.x, a.y, a.width, a.height), (0, 1024 - 160, 400, 160));
        // A huge element (a text area) is cut to the part around the point.
        let big = Area {
            x: 0,
            y: 0,
            width: 1280,
            height: 1024,
        };
        let a = crop_area(Screenshots::Elements, (640, 500), Some(big), screen).unwrap();
        assert_eq!((a.width, a.height), MAX_CROP);
        assert!(a.x <= 640 && 640 < a.x + a.width && a.y <= 500 && 500 < a.y + a.height);
    }

    #[test]
    fn grey_blanks_shrinks_and_round_trips_through_png() {
        let (w, h) = (10u32, 4u32);
        let mut data = Vec::new();
        for i in 0..w * h {
            // B, G, R, pad: a ramp in red only.
            data.extend_from_slice(&[0, 0, (i * 6) as u8, 0xff]);
        }
        let mut g = Grey::from_bgrx(w, h, w as usize * 4, &data).unwrap();
        assert_eq!(g.pixels[1], (6 * 299 / 1000) as u8);
        assert!(Grey::from_bgrx(w, h, w as usize * 4, &data[..20]).is_err());
        g.blank(&Area {
            x: 8,
            y: -1,
            width: 5,
            height: 2,
        });
        assert_eq!(g.pixels[8], BLANK);
        assert_eq!(g.pixels[9], BLANK);
        assert_ne!(g.pixels[w as usize + 8], BLANK, "row 1 is outside the area");
        let png = g.to_png().unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let back = Grey::from_png(&png).unwrap();
        assert_eq!((back.width, back.height), (w, h));
        // 16 levels: each pixel keeps its top four bits (the decoder scales 4 bits up to 8).
        for (a, b) in g.pixels.iter().zip(&back.pixels) {
            assert_eq!(a >> 4, b >> 4);
        }
        let small = g.shrink(2);
        assert_eq!((small.width, small.height), (5, 2));
        assert_eq!(g.grow(3).width, 30);
        assert_eq!(shrink_factor(400), 1);
        assert_eq!(shrink_factor(480), 2);
    }
}
