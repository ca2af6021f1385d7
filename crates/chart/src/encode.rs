//! RGB buffer → PNG bytes.
//!
//! The charts use a handful of flat colours plus the anti-aliased edges of
//! text and circles. When the image has at most 256 distinct colours it is
//! written as an exact 8-bit indexed PNG. Otherwise the palette keeps the
//! 32 most frequent colours (every flat colour) and fills up with the
//! shades farthest from those already kept, and each dropped shade becomes
//! its nearest palette entry: no flat colour changes, and an edge shade
//! moves by a few levels at most.

use crate::ChartError;

/// Encode a tightly packed RGB8 buffer as an indexed-colour PNG.
pub(crate) fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    debug_assert_eq!(rgb.len(), width as usize * height as usize * 3);
    let (palette, indices) = palettise(rgb);
    let mut out = Vec::with_capacity(32 * 1024);
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_palette(palette.iter().flatten().copied().collect::<Vec<u8>>());
    enc.set_source_srgb(png::SrgbRenderingIntent::Perceptual);
    enc.set_compression(png::Compression::Balanced);
    enc.set_filter(png::Filter::NoFilter);
    let mut writer = enc
        .write_header()
        .map_err(|e| ChartError::Encode(e.to_string()))?;
    writer
        .write_image_data(&indices)
        .map_err(|e| ChartError::Encode(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| ChartError::Encode(e.to_string()))?;
    Ok(out)
}

/// A small open-addressing map from 24-bit colour to a count/index.
struct ColourTable {
    keys: Vec<u32>, // EMPTY or rgb
    vals: Vec<u32>,
    len: usize,
}

const EMPTY: u32 = u32::MAX;

impl ColourTable {
    fn new() -> Self {
        ColourTable {
            keys: vec![EMPTY; 4096],
            vals: vec![0; 4096],
            len: 0,
        }
    }

    fn slot(&self, key: u32) -> usize {
        let mask = self.keys.len() - 1;
        let mut i = (key.wrapping_mul(0x9E37_79B1) >> 12) as usize & mask;
        loop {
            let k = self.keys[i];
            if k == key || k == EMPTY {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    fn add(&mut self, key: u32, n: u32) {
        let i = self.slot(key);
        if self.keys[i] == EMPTY {
            self.keys[i] = key;
            self.vals[i] = 0;
            self.len += 1;
            if self.len * 2 > self.keys.len() {
                self.grow();
                let j = self.slot(key);
                self.vals[j] += n;
                return;
            }
        }
        self.vals[i] += n;
    }

    fn get(&self, key: u32) -> u32 {
        let i = self.slot(key);
        debug_assert_eq!(self.keys[i], key);
        self.vals[i]
    }

    fn set(&mut self, key: u32, v: u32) {
        let i = self.slot(key);
        self.vals[i] = v;
    }

    fn grow(&mut self) {
        let old_k = std::mem::take(&mut self.keys);
        let old_v = std::mem::take(&mut self.vals);
        self.keys = vec![EMPTY; old_k.len() * 2];
        self.vals = vec![0; old_k.len() * 2];
        for (k, v) in old_k.into_iter().zip(old_v) {
            if k != EMPTY {
                let i = self.slot(k);
                self.keys[i] = k;
                self.vals[i] = v;
            }
        }
    }

    fn entries(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.keys
            .iter()
            .zip(&self.vals)
            .filter(|(k, _)| **k != EMPTY)
            .map(|(k, v)| (*k, *v))
    }
}

fn key(p: &[u8]) -> u32 {
    (u32::from(p[0]) << 16) | (u32::from(p[1]) << 8) | u32::from(p[2])
}

fn rgb_of(k: u32) -> [u8; 3] {
    [(k >> 16) as u8, (k >> 8) as u8, k as u8]
}

fn dist2(a: [u8; 3], b: [u8; 3]) -> u32 {
    let d = |x: u8, y: u8| {
        let v = i32::from(x) - i32::from(y);
        (v * v) as u32
    };
    // weight green most, as the eye does
    2 * d(a[0], b[0]) + 4 * d(a[1], b[1]) + 3 * d(a[2], b[2])
}

/// The palette (at most 256 colours) and one index per pixel.
pub(crate) fn palettise(rgb: &[u8]) -> (Vec<[u8; 3]>, Vec<u8>) {
    // 1. histogram of colours (runs make this cheap: most pixels repeat the last one)
    let mut table = ColourTable::new();
    let mut run_key = EMPTY;
    let mut run_len = 0u32;
    for p in rgb.chunks_exact(3) {
        let k = key(p);
        if k == run_key {
            run_len += 1;
        } else {
            if run_len > 0 {
                table.add(run_key, run_len);
            }
            run_key = k;
            run_len = 1;
        }
    }
    if run_len > 0 {
        table.add(run_key, run_len);
    }

    // 2. palette: every colour if they fit; else the 32 most frequent (the
    //    flat colours) and then, greedily, the colour farthest from those
    //    kept so far (so the anti-aliasing shades are covered evenly)
    let mut colours: Vec<(u32, u32)> = table.entries().collect();
    // most frequent first; ties by colour so the palette is deterministic
    colours.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if colours.len() > 256 {
        let mut kept: Vec<(u32, u32)> = colours[..32].to_vec();
        let mut rest: Vec<(u32, u32)> = colours[32..].to_vec();
        let mut nearest: Vec<u32> = rest
            .iter()
            .map(|&(k, _)| {
                kept.iter()
                    .map(|&(q, _)| dist2(rgb_of(k), rgb_of(q)))
                    .min()
                    .unwrap_or(u32::MAX)
            })
            .collect();
        while kept.len() < 256 && !rest.is_empty() {
            let (i, _) = nearest
                .iter()
                .enumerate()
                .max_by(|a, b| {
                    a.1.cmp(b.1)
                        .then(rest[b.0].1.cmp(&rest[a.0].1))
                        .then(b.0.cmp(&a.0))
                })
                .expect("rest is not empty");
            let chosen = rest.swap_remove(i);
            nearest.swap_remove(i);
            for (j, &(k, _)) in rest.iter().enumerate() {
                nearest[j] = nearest[j].min(dist2(rgb_of(k), rgb_of(chosen.0)));
            }
            kept.push(chosen);
        }
        kept.extend(rest);
        colours = kept;
    }
    let kept = colours.len().min(256);
    let palette: Vec<[u8; 3]> = colours[..kept].iter().map(|&(k, _)| rgb_of(k)).collect();

    // 3. every colour → palette index (nearest for the dropped ones)
    for (i, &(k, _)) in colours.iter().enumerate() {
        let idx = if i < kept {
            i
        } else {
            let c = rgb_of(k);
            palette
                .iter()
                .enumerate()
                .min_by_key(|(_, p)| dist2(**p, c))
                .map(|(j, _)| j)
                .unwrap_or(0)
        };
        table.set(k, idx as u32);
    }

    // 4. index the pixels
    let mut indices = Vec::with_capacity(rgb.len() / 3);
    let mut last_key = EMPTY;
    let mut last_idx = 0u8;
    for p in rgb.chunks_exact(3) {
        let k = key(p);
        if k != last_key {
            last_key = k;
            last_idx = table.get(k) as u8;
        }
        indices.push(last_idx);
    }
    (palette, indices)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
        dec.set_transformations(png::Transformations::EXPAND);
        let mut reader = dec.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn few_colours_round_trip_exactly() {
        let (w, h) = (7u32, 5u32);
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| [(i % 3 * 100) as u8, (i % 5 * 40) as u8, 9])
            .collect();
        let png_bytes = encode_png(&rgb, w, h).unwrap();
        assert_eq!(decode(&png_bytes), (w, h, rgb));
    }

    #[test]
    fn flat_colours_stay_exact_and_rare_shades_stay_close() {
        // 8 flat colours in large areas, plus a 600-step blend between two of
        // them (like anti-aliased text edges): more than 256 colours
        let (w, h) = (600u32, 40u32);
        let flat: [[u8; 3]; 8] = [
            [250, 250, 250],
            [30, 31, 34],
            [0, 114, 178],
            [213, 94, 0],
            [78, 80, 88],
            [109, 111, 120],
            [227, 229, 232],
            [185, 187, 190],
        ];
        let mut rgb = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let p = if y == 0 {
                    let t = x as f64 / 599.0;
                    let mix =
                        |a: u8, b: u8| (f64::from(a) * (1.0 - t) + f64::from(b) * t).round() as u8;
                    [mix(250, 30), mix(250, 31), mix(250, 34)]
                } else {
                    flat[(x / 75) as usize]
                };
                rgb.extend_from_slice(&p);
            }
        }
        let png_bytes = encode_png(&rgb, w, h).unwrap();
        let (_, _, back) = decode(&png_bytes);
        let row = (w * 3) as usize;
        assert_eq!(&back[row..], &rgb[row..], "flat colours must be exact");
        let worst = rgb[..row]
            .iter()
            .zip(&back[..row])
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(worst <= 2, "worst channel error {worst}");
    }
}
