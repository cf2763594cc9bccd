//! The live video: the newest frame of the engine's shared-memory ring,
//! converted from BGRx to an opaque RGB `slint::Image`. Polled by a timer on
//! the UI thread; a frame is copied only when a new one was published.
//!
//! The reader is a state machine:
//!
//! ```text
//! Off (no ring named) ──path──▶ Reading ──read error, file gone or replaced──▶ Retry ──after REOPEN──▶ Reading …
//! ```
//!
//! The engine may restart (the ring's generation changes, which the reader
//! follows by itself), delete or replace the file, or write a broken one:
//! none of that ends the panel, it only shows no video until frames flow.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use actrec_shmring::{FrameInfo, RingReader};
use slint::{Image, Rgb8Pixel, SharedPixelBuffer};

/// Between attempts to open a ring that failed.
const REOPEN: Duration = Duration::from_secs(1);
/// How often the ring's path is checked for a replaced file.
const CHECK_FILE: Duration = Duration::from_secs(1);
/// Without a new frame for this long, the video is shown as stale.
pub const STALE: Duration = Duration::from_millis(1500);

/// How often the rate of frames shown goes to the log (the measure of the
/// panel's video rate; see docs/PERFORMANCE.md).
const RATE_EVERY: Duration = Duration::from_secs(10);

enum State {
    Off,
    Retry {
        path: PathBuf,
        at: Instant,
    },
    Reading {
        path: PathBuf,
        reader: RingReader,
        /// The file's identity, to notice a replaced file.
        inode: (u64, u64),
        checked: Instant,
    },
}

pub struct Video {
    state: State,
    pixels: Vec<u8>,
    last: Option<FrameInfo>,
    last_frame_at: Option<Instant>,
    /// The last error, logged once.
    error: Option<String>,
    frames: u64,
    /// Since when, and from which count, the rate is measured.
    rate_from: Option<(Instant, u64)>,
}

impl Default for Video {
    fn default() -> Self {
        Self::new()
    }
}

impl Video {
    pub fn new() -> Self {
        Self {
            state: State::Off,
            pixels: Vec::new(),
            last: None,
            last_frame_at: None,
            error: None,
            frames: 0,
            rate_from: None,
        }
    }

    /// Frames shown so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Whether a frame came within [`STALE`].
    pub fn live(&self, now: Instant) -> bool {
        self.last_frame_at
            .is_some_and(|at| now.saturating_duration_since(at) < STALE)
    }

    /// The newest frame if it is new; `path` is the ring the engine names now.
    pub fn poll(&mut self, path: Option<&Path>, now: Instant) -> Option<Image> {
        self.follow(path, now);
        let State::Reading {
            path,
            reader,
            inode,
            checked,
        } = &mut self.state
        else {
            return None;
        };
        let replaced = if now.saturating_duration_since(*checked) >= CHECK_FILE {
            *checked = now;
            identity(path) != Some(*inode)
        } else {
            false
        };
        if replaced {
            tracing::info!(path = %path.display(), "panel: the video ring was replaced or removed; reopening");
            let path = path.clone();
            self.open(path, now);
            return None;
        }
        match reader.latest(self.last.as_ref(), &mut self.pixels) {
            Ok(Some(info)) => {
                let geometry = reader.geometry();
                self.last = Some(info);
                self.last_frame_at = Some(now);
                self.frames += 1;
                self.error = None;
                self.log_rate(now);
                Some(to_image(&self.pixels, geometry.width, geometry.height))
            }
            Ok(None) => None,
            Err(err) => {
                let path = path.clone();
                self.failed(&err.to_string(), path, now);
                None
            }
        }
    }

    fn log_rate(&mut self, now: Instant) {
        let (since, from) = *self.rate_from.get_or_insert((now, self.frames));
        let elapsed = now.saturating_duration_since(since);
        if elapsed >= RATE_EVERY {
            let fps = (self.frames - from) as f64 / elapsed.as_secs_f64();
            tracing::info!(fps = format!("{fps:.1}"), "panel: video frames shown");
            self.rate_from = Some((now, self.frames));
        }
    }

    /// Opens, switches or closes the ring as the engine's status names it.
    fn follow(&mut self, path: Option<&Path>, now: Instant) {
        match (&self.state, path) {
            (State::Off, None) => {}
            (_, None) => {
                self.state = State::Off;
                self.last = None;
            }
            (State::Reading { path: open, .. } | State::Retry { path: open, .. }, Some(path)) if open != path => {
                self.open(path.to_owned(), now);
            }
            (State::Off, Some(path)) => self.open(path.to_owned(), now),
            (State::Retry { path, at }, _) if now >= *at => {
                let path = path.clone();
                self.open(path, now);
            }
            _ => {}
        }
    }

    fn open(&mut self, path: PathBuf, now: Instant) {
        self.last = None;
        let opened = RingReader::open(&path).map_err(|e| e.to_string()).and_then(|reader| {
            identity(&path)
                .map(|inode| (reader, inode))
                .ok_or_else(|| format!("{}: gone", path.display()))
        });
        match opened {
            Ok((reader, inode)) => {
                tracing::info!(path = %path.display(), width = reader.geometry().width, height = reader.geometry().height, "panel: video ring open");
                self.error = None;
                self.state = State::Reading {
                    path,
                    reader,
                    inode,
                    checked: now,
                };
            }
            Err(err) => self.failed(&err, path, now),
        }
    }

    fn failed(&mut self, error: &str, path: PathBuf, now: Instant) {
        if self.error.as_deref() != Some(error) {
            tracing::warn!(path = %path.display(), %error, "panel: no video from the ring; retrying");
            self.error = Some(error.to_owned());
        }
        self.state = State::Retry { path, at: now + REOPEN };
    }
}

fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Converts one frame of BGRx (stride `width * 4`) to RGB; a short buffer
/// (a torn geometry) leaves the rest black rather than panic.
pub fn bgrx_to_rgb(bgrx: &[u8], rgb: &mut [Rgb8Pixel]) {
    for (pixel, bgrx) in rgb.iter_mut().zip(bgrx.chunks_exact(4)) {
        *pixel = Rgb8Pixel {
            r: bgrx[2],
            g: bgrx[1],
            b: bgrx[0],
        };
    }
}

fn to_image(bgrx: &[u8], width: u32, height: u32) -> Image {
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(width, height);
    bgrx_to_rgb(bgrx, buffer.make_mut_slice());
    Image::from_rgb8(buffer)
}

#[cfg(test)]
mod tests {
    use actrec_shmring::{Geometry, RingWriter};

    use super::*;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("actrec-panel-video-{}-{name}", std::process::id()))
    }

    #[test]
    fn bgrx_becomes_rgb() {
        let bgrx = [1, 2, 3, 0, 10, 20, 30, 255];
        let mut rgb = [Rgb8Pixel { r: 9, g: 9, b: 9 }; 3];
        bgrx_to_rgb(&bgrx, &mut rgb);
        assert_eq!(rgb[0], Rgb8Pixel { r: 3, g: 2, b: 1 });
        assert_eq!(rgb[1], Rgb8Pixel { r: 30, g: 20, b: 10 });
        assert_eq!(rgb[2], Rgb8Pixel { r: 9, g: 9, b: 9 }, "untouched past a short frame");
    }

    #[test]
    fn frames_are_copied_once_and_a_restarted_or_vanished_ring_is_followed() {
        let path = temp("ring");
        let geometry = Geometry {
            width: 4,
            height: 2,
            slots: 3,
        };
        let t0 = Instant::now();
        let mut video = Video::new();
        // No ring yet: nothing, and no panic.
        assert!(video.poll(Some(&path), t0).is_none());
        assert!(video.poll(None, t0).is_none());

        let mut writer = RingWriter::create(&path, geometry, 1).expect("ring");
        let mut frame = vec![0u8; 32];
        frame[..4].copy_from_slice(&[10, 20, 30, 0]);
        writer.write(1, &frame).expect("write");
        let image = video.poll(Some(&path), t0).expect("a frame");
        assert_eq!((image.size().width, image.size().height), (4, 2));
        let pixels = image.to_rgb8().expect("rgb");
        assert_eq!(pixels.as_slice()[0], Rgb8Pixel { r: 30, g: 20, b: 10 });
        assert!(video.live(t0));
        assert!(video.poll(Some(&path), t0).is_none(), "no new frame, no copy");
        assert_eq!(video.frames(), 1);
        assert!(!video.live(t0 + STALE), "stale without frames");

        // The engine restarts with another size: a new generation.
        let mut writer = RingWriter::create(
            &path,
            Geometry {
                width: 2,
                height: 2,
                slots: 2,
            },
            2,
        )
        .expect("ring");
        writer.write(5, &[7; 16]).expect("write");
        let image = video.poll(Some(&path), t0).expect("the new writer's frame");
        assert_eq!(image.size().width, 2);

        // The file vanishes, then a new one is written under the same name.
        drop(writer);
        std::fs::remove_file(&path).expect("remove");
        let t1 = t0 + CHECK_FILE;
        assert!(video.poll(Some(&path), t1).is_none());
        let t2 = t1 + REOPEN;
        assert!(video.poll(Some(&path), t2).is_none(), "still gone");
        let mut writer = RingWriter::create(&path, geometry, 3).expect("ring");
        writer.write(9, &[1; 32]).expect("write");
        let t3 = t2 + REOPEN;
        assert!(video.poll(Some(&path), t3).is_some(), "the new file's frame");

        // A file that is not a ring.
        std::fs::write(&path, b"not a ring").expect("write");
        for step in 1..5u32 {
            let _ = video.poll(Some(&path), t3 + REOPEN * step);
        }
        assert!(video.poll(None, t3).is_none());
        std::fs::remove_file(&path).ok();
    }
}
