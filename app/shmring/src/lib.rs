//! A ring of video frames in a file on tmpfs (`/run`), written by the engine
//! and read by the panel: shared memory without `mmap`, so neither side needs
//! unsafe code, and a crashed reader can never corrupt the writer.
//!
//! Layout, all integers little-endian (see docs/VIDEO.md):
//!
//! ```text
//! header, 64 bytes:
//!   0  magic       b"ACTRECV\0"
//!   8  version     u32 = 1
//!  12  width       u32
//!  16  height      u32
//!  20  stride      u32    bytes per row (width * 4)
//!  24  fourcc      b"BGRx"
//!  28  slots       u32
//!  32  frame_bytes u64    stride * height
//!  40  published   u64    frames published so far; frame n is in slot n % slots
//!  48  generation  u64    changes when the writer restarts
//!  56  reserved
//! slot i, at 64 + i * (64 + frame_bytes):
//!   0  seq   u64  2n+1 while frame n is written, 2n+2 once it is complete
//!   8  pts   u64  nanoseconds, the writer's clock
//!  16  reserved (48 bytes)
//!  64  pixels, frame_bytes
//! ```
//!
//! A reader takes the latest published frame, reads its slot's `seq`, the
//! pixels, then `seq` again; equal and even means the copy is whole (a seqlock).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub const MAGIC: [u8; 8] = *b"ACTRECV\0";
pub const VERSION: u32 = 1;
pub const FOURCC: [u8; 4] = *b"BGRx";
pub const HEADER_BYTES: u64 = 64;
pub const SLOT_HEADER_BYTES: u64 = 64;

const PUBLISHED_AT: u64 = 40;

#[derive(Debug, thiserror::Error)]
pub enum RingError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not an actrec video ring (bad magic)")]
    NotARing { path: PathBuf },
    #[error(
        "{path}: video ring version {found}, this program reads version {VERSION}; update the panel and engine together"
    )]
    Version { path: PathBuf, found: u32 },
    #[error("{path}: frame size {width}x{height} does not fit the file")]
    Size { path: PathBuf, width: u32, height: u32 },
}

/// Geometry of the frames in a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub width: u32,
    pub height: u32,
    pub slots: u32,
}

impl Geometry {
    pub fn stride(&self) -> u32 {
        self.width * 4
    }

    pub fn frame_bytes(&self) -> u64 {
        u64::from(self.stride()) * u64::from(self.height)
    }

    fn slot_offset(&self, frame: u64) -> u64 {
        HEADER_BYTES + (frame % u64::from(self.slots)) * (SLOT_HEADER_BYTES + self.frame_bytes())
    }

    fn file_bytes(&self) -> u64 {
        HEADER_BYTES + u64::from(self.slots) * (SLOT_HEADER_BYTES + self.frame_bytes())
    }
}

/// The engine's side.
pub struct RingWriter {
    file: File,
    path: PathBuf,
    geometry: Geometry,
    published: u64,
}

impl RingWriter {
    /// Creates (or takes over) the ring file. `generation` tells readers that
    /// a new writer started, e.g. the time it started.
    pub fn create(path: &Path, geometry: Geometry, generation: u64) -> Result<Self, RingError> {
        let io_err = |source| RingError::Io {
            path: path.to_owned(),
            source,
        };
        // Truncated in place rather than replaced, so that readers holding it open see the new writer.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        file.set_len(0).map_err(io_err)?;
        file.set_len(geometry.file_bytes()).map_err(io_err)?;
        let mut header = [0u8; HEADER_BYTES as usize];
        header[0..8].copy_from_slice(&MAGIC);
        header[8..12].copy_from_slice(&VERSION.to_le_bytes());
        header[12..16].copy_from_slice(&geometry.width.to_le_bytes());
        header[16..20].copy_from_slice(&geometry.height.to_le_bytes());
        header[20..24].copy_from_slice(&geometry.stride().to_le_bytes());
        header[24..28].copy_from_slice(&FOURCC);
        header[28..32].copy_from_slice(&geometry.slots.to_le_bytes());
        header[32..40].copy_from_slice(&geometry.frame_bytes().to_le_bytes());
        header[48..56].copy_from_slice(&generation.to_le_bytes());
        file.write_all_at(&header, 0).map_err(io_err)?;
        Ok(Self {
            file,
            path: path.to_owned(),
            geometry,
            published: 0,
        })
    }

    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Publishes one frame; `pixels` must be exactly one frame of BGRx.
    pub fn write(&mut self, pts_ns: u64, pixels: &[u8]) -> Result<u64, RingError> {
        let io_err = |source| RingError::Io {
            path: self.path.clone(),
            source,
        };
        if pixels.len() as u64 != self.geometry.frame_bytes() {
            return Err(io_err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame of {} bytes, ring takes {}",
                    pixels.len(),
                    self.geometry.frame_bytes()
                ),
            )));
        }
        let n = self.published;
        let slot = self.geometry.slot_offset(n);
        self.file
            .write_all_at(&(2 * n + 1).to_le_bytes(), slot)
            .map_err(io_err)?;
        self.file
            .write_all_at(&pts_ns.to_le_bytes(), slot + 8)
            .map_err(io_err)?;
        self.file
            .write_all_at(pixels, slot + SLOT_HEADER_BYTES)
            .map_err(io_err)?;
        self.file
            .write_all_at(&(2 * n + 2).to_le_bytes(), slot)
            .map_err(io_err)?;
        self.published = n + 1;
        self.file
            .write_all_at(&self.published.to_le_bytes(), PUBLISHED_AT)
            .map_err(io_err)?;
        Ok(n)
    }
}

/// A frame copied out of the ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// Frame number since the writer started.
    pub number: u64,
    pub pts_ns: u64,
    pub generation: u64,
}

/// The panel's side.
pub struct RingReader {
    file: File,
    path: PathBuf,
    geometry: Geometry,
    generation: u64,
}

impl RingReader {
    pub fn open(path: &Path) -> Result<Self, RingError> {
        let file = File::open(path).map_err(|source| RingError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut reader = Self {
            file,
            path: path.to_owned(),
            geometry: Geometry {
                width: 0,
                height: 0,
                slots: 1,
            },
            generation: 0,
        };
        reader.reload()?;
        Ok(reader)
    }

    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Re-reads the header, as after a writer restart.
    fn reload(&mut self) -> Result<(), RingError> {
        let mut header = [0u8; HEADER_BYTES as usize];
        self.read_at(&mut header, 0)?;
        if header[0..8] != MAGIC {
            return Err(RingError::NotARing {
                path: self.path.clone(),
            });
        }
        let u32_at = |at: usize| u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
        let version = u32_at(8);
        if version != VERSION {
            return Err(RingError::Version {
                path: self.path.clone(),
                found: version,
            });
        }
        let geometry = Geometry {
            width: u32_at(12),
            height: u32_at(16),
            slots: u32_at(28).max(1),
        };
        let len = self
            .file
            .metadata()
            .map_err(|source| RingError::Io {
                path: self.path.clone(),
                source,
            })?
            .len();
        if len < geometry.file_bytes() {
            return Err(RingError::Size {
                path: self.path.clone(),
                width: geometry.width,
                height: geometry.height,
            });
        }
        self.geometry = geometry;
        self.generation = u64_from(&header[48..56]);
        Ok(())
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), RingError> {
        self.file.read_exact_at(buf, offset).map_err(|source| RingError::Io {
            path: self.path.clone(),
            source,
        })
    }

    fn read_u64(&self, offset: u64) -> Result<u64, RingError> {
        let mut bytes = [0u8; 8];
        self.read_at(&mut bytes, offset)?;
        Ok(u64_from(&bytes))
    }

    /// Copies the newest complete frame into `pixels` (resized to fit), if
    /// there is one newer than `after`. A frame overwritten while it was being
    /// copied is skipped, never returned torn.
    pub fn latest(&mut self, after: Option<&FrameInfo>, pixels: &mut Vec<u8>) -> Result<Option<FrameInfo>, RingError> {
        let generation = self.read_u64(48)?;
        if generation != self.generation || self.geometry.width == 0 {
            self.reload()?;
        }
        let published = self.read_u64(PUBLISHED_AT)?;
        let Some(n) = published.checked_sub(1) else {
            return Ok(None);
        };
        if after.is_some_and(|a| a.generation == self.generation && a.number >= n) {
            return Ok(None);
        }
        let slot = self.geometry.slot_offset(n);
        let seq = self.read_u64(slot)?;
        if seq != 2 * n + 2 {
            return Ok(None);
        }
        pixels.resize(self.geometry.frame_bytes() as usize, 0);
        let pts_ns = self.read_u64(slot + 8)?;
        self.read_at(pixels, slot + SLOT_HEADER_BYTES)?;
        if self.read_u64(slot)? != seq {
            return Ok(None);
        }
        Ok(Some(FrameInfo {
            number: n,
            pts_ns,
            generation: self.generation,
        }))
    }
}

fn u64_from(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("actrec-ring-{}-{name}", std::process::id()))
    }

    #[test]
    fn frames_written_are_read_back_whole() {
        let path = temp("basic");
        let geometry = Geometry {
            width: 8,
            height: 4,
            slots: 3,
        };
        let mut writer = RingWriter::create(&path, geometry, 7).expect("create");
        let mut reader = RingReader::open(&path).expect("open");
        let mut pixels = Vec::new();
        assert_eq!(reader.latest(None, &mut pixels).expect("read"), None);
        for n in 0..5u8 {
            writer.write(u64::from(n) * 1000, &[n; 128]).expect("write");
        }
        let info = reader.latest(None, &mut pixels).expect("read").expect("a frame");
        assert_eq!(
            info,
            FrameInfo {
                number: 4,
                pts_ns: 4000,
                generation: 7
            }
        );
        assert!(pixels.iter().all(|&p| p == 4));
        assert_eq!(
            reader.latest(Some(&info), &mut pixels).expect("read"),
            None,
            "nothing newer"
        );
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn a_restarted_writer_is_followed() {
        let path = temp("restart");
        let mut writer = RingWriter::create(
            &path,
            Geometry {
                width: 2,
                height: 2,
                slots: 2,
            },
            1,
        )
        .expect("create");
        writer.write(1, &[1; 16]).expect("write");
        let mut reader = RingReader::open(&path).expect("open");
        let mut pixels = Vec::new();
        let first = reader.latest(None, &mut pixels).expect("read").expect("frame");
        let mut writer = RingWriter::create(
            &path,
            Geometry {
                width: 4,
                height: 2,
                slots: 2,
            },
            2,
        )
        .expect("recreate");
        writer.write(5, &[9; 32]).expect("write");
        let second = reader
            .latest(Some(&first), &mut pixels)
            .expect("read")
            .expect("frame from the new writer");
        assert_eq!((second.number, second.generation, pixels.len()), (0, 2, 32));
        assert_eq!(reader.geometry().width, 4);
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn wrong_files_and_sizes_are_refused() {
        let path = temp("bad");
        std::fs::write(&path, [0u8; 64]).expect("write");
        assert!(matches!(RingReader::open(&path), Err(RingError::NotARing { .. })));
        let mut writer = RingWriter::create(
            &path,
            Geometry {
                width: 2,
                height: 2,
                slots: 2,
            },
            1,
        )
        .expect("create");
        assert!(writer.write(0, &[0; 3]).is_err());
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[8] = 9;
        std::fs::write(&path, bytes).expect("write");
        let err = RingReader::open(&path).err().expect("version refused");
        assert!(err.to_string().contains("video ring version 9"), "{err}");
        std::fs::remove_file(&path).ok();
    }
}
