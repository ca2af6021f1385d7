//! Stable 64-bit cache keys: xxHash64 (fixed seed) over a canonical byte
//! form of the *normalised* input, so the key depends neither on the Rust
//! version, nor the platform, nor the order of the input dates.

/// Bumped whenever a change to the crate changes the pictures, so that
/// keys of charts drawn by an older version never match.
pub const RENDER_VERSION: u32 = 1;

const SEED: u64 = 0x6b61_7261_6261_6b68; // "karabakh"

pub(crate) struct KeyWriter(Vec<u8>);

impl KeyWriter {
    pub fn new(kind: u8) -> Self {
        let mut w = KeyWriter(Vec::with_capacity(256));
        w.bytes(b"karabakh-chart");
        w.u32(RENDER_VERSION);
        w.u8(kind);
        w
    }
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    pub fn counts(&mut self, counts: &[(i32, u32)]) {
        self.u32(counts.len() as u32);
        for &(d, c) in counts {
            self.i32(d);
            self.u32(c);
        }
    }
    pub fn days(&mut self, days: &[i32]) {
        self.u32(days.len() as u32);
        for &d in days {
            self.i32(d);
        }
    }
    pub fn finish(self) -> u64 {
        twox_hash::XxHash64::oneshot(SEED, &self.0)
    }
}
